#!/usr/bin/env bash
# Stop exactly what cluster-up started (by PID files), remove the pod containers, sandboxes, their
# network namespaces and kubelet mounts. Cluster state (etcd data, certs, images) is kept;
# CLEAN=1 also deletes .cluster/ state (a fresh cluster next time).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RUN="$STATE/run" KUBELET_ROOT=/var/lib/kubetune/kubelet

stop() { # stop NAME — TERM, then KILL after 20 s, only the PID from our pid file
  local f="$RUN/$1.pid" pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "$1: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "$1: still running, SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
  fi
  rm -f "$f"
}

for pidf in "$RUN"/kwok*.pid; do [[ -e $pidf ]] && stop "$(basename "$pidf" .pid)"; done
stop kubelet
stop kube-proxy
[[ -x $K8S_BIN/kube-proxy ]] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
if [[ -f $RUN/containerd.pid ]] && kill -0 "$(cat "$RUN/containerd.pid")" 2>/dev/null; then
  tasks=$(ctr -n k8s.io tasks ls -q 2>/dev/null || true)
  if [[ -n $tasks ]]; then
    log "containerd: killing $(echo "$tasks" | wc -l) pod containers/sandboxes"
    for t in $tasks; do ctr -n k8s.io tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 1
    for t in $tasks; do ctr -n k8s.io tasks rm -f "$t" >/dev/null 2>&1 || true; done
  fi
  for c in $(ctr -n k8s.io containers ls -q 2>/dev/null || true); do ctr -n k8s.io containers rm "$c" >/dev/null 2>&1 || true; done
fi
stop containerd
# containerd-shims of our containerd that outlived it (found by their -address flag, killed by pid).
for d in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null < "$d/cmdline" || true)
  if [[ $cmd == *containerd-shim-runc-v2*-namespace\ k8s.io*-address\ /run/containerd/containerd.sock* ]]; then
    log "killing leftover shim ${d#/proc/}"; kill -KILL "${d#/proc/}" 2>/dev/null || true
  fi
done
stop kube-scheduler
stop kube-controller-manager
stop kube-apiserver
stop etcd

# Mounts left by pods: kubelet volumes, sandbox network namespaces, containerd rootfs/shm.
{ grep -oE " ($KUBELET_ROOT|/run/netns/cni-|/var/run/netns/cni-|/run/containerd/io.containerd|/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes)[^ ]*" /proc/mounts || true; } |
  sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
rm -f /run/netns/cni-* 2>/dev/null || true
rm -rf /var/lib/cni/networks/kubetune
ip link del kubetune0 2>/dev/null || true
if [[ ${CLEAN:-0} == 1 ]]; then log "removing $STATE and $KUBELET_ROOT"; rm -rf "$STATE" "$KUBELET_ROOT"; fi
log "cluster down"
