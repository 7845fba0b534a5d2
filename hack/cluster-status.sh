#!/usr/bin/env bash
# Show which cluster processes run (from .cluster/run/*.pid) and the nodes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
shopt -s nullglob
any=0
for f in "$STATE"/run/*.pid; do
  any=1; n=$(basename "$f" .pid) pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then echo "  $n: running (pid $pid)"; else echo "  $n: DEAD (pid $pid, see $STATE/logs/$n.log)"; fi
done
[[ $any == 1 ]] || { echo "cluster: not started (make cluster-up)"; exit 0; }
export KUBECONFIG="$STATE/kubeconfig"
kubectl --request-timeout=5s get nodes -L node.kubernetes.io/instance-type \
  -o custom-columns='NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,GPU:.status.allocatable.nvidia\.com/gpu,TYPE:.metadata.labels.node\.kubernetes\.io/instance-type' || true
