#!/usr/bin/env bash
# Add N kwok-simulated p3.8xlarge nodes (nvidia.com/gpu: 4 each) to the running local cluster, for
# scale tests. kwok runs out of cluster and manages only nodes annotated kwok.x-k8s.io/node=fake, so the
# real kubelet's node is untouched. The fake nodes carry the taint kwok.x-k8s.io/node=fake:NoSchedule:
# only pods that tolerate it land there. Nodes kwok-gpu-<i> with i >= N are deleted.
# Usage: hack/kwok-nodes.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:?usage: $0 N}
export KUBECONFIG="$STATE/kubeconfig"
[[ -f $KUBECONFIG ]] || die "cluster not up (make cluster-up)"
"$HACK_DIR/build-bins.sh" kwok
pidf="$STATE/run/kwok.pid"
if ! { [[ -f $pidf ]] && kill -0 "$(cat "$pidf")" 2>/dev/null; }; then
  log "kwok: starting"
  setsid kwok --kubeconfig "$STATE/kubeconfigs/kwok.kubeconfig" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip 10.250.0.1 --node-port 10247 --server-address 127.0.0.1:10247 --cidr 10.250.0.0/16 \
    >> "$STATE/logs/kwok.log" 2>&1 < /dev/null &
  echo $! > "$pidf"
fi
manifest=""
for ((i = 0; i < N; i++)); do
  manifest+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-gpu-$i
  annotations: {kwok.x-k8s.io/node: fake}
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-gpu-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: p3.8xlarge
    kubetune.io/accelerator: nvidia-tesla-v100
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
status:
  allocatable: {cpu: '32', memory: 244Gi, pods: '110', nvidia.com/gpu: '4'}
  capacity: {cpu: '32', memory: 244Gi, pods: '110', nvidia.com/gpu: '4'}
"
done
[[ -n $manifest ]] && kubectl apply -f - <<< "$manifest" >/dev/null
for n in $(kubectl get nodes -l type=kwok -o name); do
  i=${n##*-}; (( i >= N )) && kubectl delete "$n" --wait=false >/dev/null
done
[[ $N -gt 0 ]] && kubectl wait --for=condition=Ready nodes -l type=kwok --timeout=120s >/dev/null
log "kwok: $(kubectl get nodes -l type=kwok --no-headers 2>/dev/null | wc -l) fake 4-GPU nodes Ready"
