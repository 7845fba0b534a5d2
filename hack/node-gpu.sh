#!/usr/bin/env bash
# Make NODE look like a p3.8xlarge pool node: labels, and nvidia.com/gpu: 4 in status capacity and
# allocatable (an extended resource patched on the Node status, as the Kubernetes docs describe).
# The kubelet zeroes extended resources when it re-registers, so this runs after every kubelet start.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODE=$1 GPUS=${GPUS:-4}
export KUBECONFIG=${KUBECONFIG:-$STATE/kubeconfig}
kubectl label node "$NODE" --overwrite node.kubernetes.io/instance-type=p3.8xlarge \
  kubetune.io/accelerator=nvidia-tesla-v100 >/dev/null
gpus() { kubectl get node "$NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}'; }
if [[ ${GPU_QUICK:-0} == 1 && $(kubectl get node "$NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}') == "$GPUS" ]]; then
  log "node $NODE: nvidia.com/gpu=$GPUS allocatable, p3.8xlarge labels"; exit 0
fi
for i in $(seq 1 10); do
  [[ $(gpus) == "$GPUS" ]] || kubectl patch node "$NODE" --subresource=status --type=merge \
    -p "{\"status\":{\"capacity\":{\"nvidia.com/gpu\":\"$GPUS\"},\"allocatable\":{\"nvidia.com/gpu\":\"$GPUS\"}}}" >/dev/null
  # It must survive kubelet status updates (every 10 s here): check over 12 s.
  ok=1
  for _ in 1 2 3 4; do sleep 3; [[ $(gpus) == "$GPUS" ]] || { ok=0; break; }; done
  [[ $ok == 1 ]] && { log "node $NODE: nvidia.com/gpu=$GPUS allocatable (stable 12s), p3.8xlarge labels"; exit 0; }
  log "node $NODE: nvidia.com/gpu was reset, patching again"
done
die "nvidia.com/gpu did not stick on node $NODE"
