#!/usr/bin/env bash
# Start a real single-node Kubernetes from upstream binaries (no Docker): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd+runc with CNI bridge, kubelet, kube-proxy.
# Idempotent: components already running (per .cluster/run/*.pid) are left alone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T_START=$SECONDS
NODE=${KUBETUNE_NODE_NAME:-kubetune-node}
NODE_IP=${KUBETUNE_NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -nE 's/.* src ([0-9.]+).*/\1/p')}
NODE_IP=${NODE_IP:-$(hostname -I | awk '{print $1}')}
POD_CIDR=10.244.0.0/24 SERVICE_CIDR=10.96.0.0/16
PKI="$STATE/pki" RUN="$STATE/run" LOGS="$STATE/logs" KC="$STATE/kubeconfigs"
KUBELET_ROOT=/var/lib/kubetune/kubelet
export KUBECONFIG="$STATE/kubeconfig"
[[ $(id -u) -eq 0 ]] || die "cluster-up needs root (containerd, kubelet, iptables)"
mkdir -p "$RUN" "$LOGS" "$KC" "$STATE/etcd" "$STATE/cni/net.d" "$STATE/containerd" "$KUBELET_ROOT"

"$HACK_DIR/install-deps.sh"
# shellcheck disable=SC2086
"$HACK_DIR/build-bins.sh" ${KUBETUNE_BINS:-kube etcd kwok helm}
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy etcd; do
  command -v $b >/dev/null || die "$b missing from cache"
done

# ---------- host preparation (what kind's entrypoint does) ----------
[[ -e /dev/kmsg ]] || ln -s /dev/console /dev/kmsg
[[ -s /etc/machine-id ]] || (cat /proc/sys/kernel/random/uuid | tr -d - > /etc/machine-id)
mount --make-rshared / 2>/dev/null || true
modprobe br_netfilter 2>/dev/null || true; modprobe overlay 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
swapoff -a 2>/dev/null || true

"$HACK_DIR/gen-certs.sh" "$NODE" "$NODE_IP"

# put FILE — write stdin to FILE only when the content differs (kube-proxy exits when its config
# file is touched, and nothing should restart because a second cluster-up rewrote the same bytes).
put() {
  cat > "$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

kubeconfig() { # kubeconfig FILE CERTNAME USER
  put "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kubetune-local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $3
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$2.crt")
    client-key-data: $(base64 -w0 "$PKI/$2.key")
contexts:
- name: kubetune-local
  context: {cluster: kubetune-local, user: $3}
current-context: kubetune-local
KC
  chmod 600 "$1"
}
kubeconfig "$STATE/kubeconfig" admin kubernetes-admin
for c in controller-manager scheduler kubelet kube-proxy kwok; do kubeconfig "$KC/$c.kubeconfig" "$c" "$c"; done

# ---------- process helpers ----------
running() { local f="$RUN/$1.pid"; [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }
start() { # start NAME CMD... — background daemon, own session, log + pid file
  local name=$1; shift
  if running "$name"; then log "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  log "$name: starting"
  echo "=== $(date -u +%FT%TZ) $*" >> "$LOGS/$name.log"
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
wait_for() { # wait_for DESC TIMEOUT CMD...
  local desc=$1 timeout=$2 t0=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    (( SECONDS - t0 > timeout )) && die "timed out after ${timeout}s waiting for $desc (see $LOGS/)"
    sleep 1
  done
  log "$desc ($((SECONDS - t0))s)"
}
k() { kubectl --request-timeout=20s "$@"; }
# alive NAME — after a wait: the process we started must still be ours and running (a foreign
# containerd/etcd/apiserver on the same socket or port would otherwise answer the health check).
alive() { running "$1" || { tail -20 "$LOGS/$1.log" >&2; die "$1 exited (another one running on its port/socket?) — see $LOGS/$1.log"; }; }

# ---------- etcd ----------
start etcd etcd --name kubetune --data-dir "$STATE/etcd" \
  --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster kubetune=http://127.0.0.1:2380 \
  --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
  --trusted-ca-file "$PKI/ca.crt" --client-cert-auth \
  --listen-metrics-urls http://127.0.0.1:2381 --unsafe-no-fsync --quota-backend-bytes 2147483648
wait_for "etcd healthy" 60 curl -fsS http://127.0.0.1:2381/health; alive etcd

# ---------- control plane ----------
start kube-apiserver kube-apiserver --advertise-address "$NODE_IP" --bind-address 0.0.0.0 --secure-port 6443 \
  --etcd-servers https://127.0.0.1:2379 --etcd-cafile "$PKI/ca.crt" \
  --etcd-certfile "$PKI/apiserver-etcd-client.crt" --etcd-keyfile "$PKI/apiserver-etcd-client.key" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --allow-privileged=true --anonymous-auth=true --profiling=false
wait_for "kube-apiserver ready" 120 k get --raw /readyz; alive kube-apiserver

start kube-controller-manager kube-controller-manager --kubeconfig "$KC/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$KC/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$KC/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --controllers '*,bootstrapsigner,tokencleaner'
start kube-scheduler kube-scheduler --kubeconfig "$KC/scheduler.kubeconfig" \
  --authentication-kubeconfig "$KC/scheduler.kubeconfig" --authorization-kubeconfig "$KC/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --leader-elect=false

# ---------- containerd + CNI ----------
put "$STATE/containerd/config.toml" <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which some VMs/containers lack (this one does):
  # clamp pod values to containerd's own instead of failing every sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
TOML
put "$STATE/cni/net.d/10-kubetune.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "kubetune",
  "plugins": [
    {"type": "bridge", "bridge": "kubetune0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start containerd containerd --config "$STATE/containerd/config.toml"
wait_for "containerd up" 60 ctr version; sleep 1; alive containerd

"$HACK_DIR/images.sh" cluster   # pause + test images, cached archives imported into k8s.io

# ---------- kubelet + kube-proxy ----------
put "$STATE/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
failSwapOn: false
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
podCIDR: $POD_CIDR
resolvConf: /etc/resolv.conf
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
# A test node on a shared disk: building the 6 GB operator image briefly takes most of it, and the
# default 5-minute pressure period kept the node tainted (disk-pressure) long after the build freed it.
evictionHard: {memory.available: "100Mi", nodefs.available: "512Mi", imagefs.available: "512Mi", nodefs.inodesFree: "1%"}
evictionPressureTransitionPeriod: 10s
nodeStatusReportFrequency: 10s
syncFrequency: 10s
YAML
KUBELET_SINCE=1970-01-01T00:00:00Z
running kubelet || KUBELET_SINCE=$(date -u +%FT%TZ)
start kubelet kubelet --config "$STATE/kubelet-config.yaml" --kubeconfig "$KC/kubelet.kubeconfig" \
  --root-dir "$KUBELET_ROOT" --hostname-override "$NODE" --node-ip "$NODE_IP" \
  --node-labels "node.kubernetes.io/instance-type=p3.8xlarge,kubetune.io/accelerator=nvidia-tesla-v100" --v 1

put "$STATE/kube-proxy-config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $KC/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: 10.244.0.0/16
hostnameOverride: $NODE
bindAddress: 0.0.0.0
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0}
YAML
start kube-proxy kube-proxy --config "$STATE/kube-proxy-config.yaml"

# Ready with a heartbeat from this kubelet (not a stale condition from a previous run): only then is
# its (re-)registration done, which zeroes extended resources; then advertise the GPUs.
ready_now() {
  local hb st
  hb=$(k get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')
  st=$(k get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
  [[ $st == True && ! $hb < $KUBELET_SINCE ]]
}
wait_for "node $NODE Ready" 180 ready_now; alive kubelet; alive kube-controller-manager; alive kube-scheduler
# A kubelet that was already running does not re-register: no need to watch the value for 12 s.
[[ $KUBELET_SINCE == 1970* ]] && export GPU_QUICK=1
"$HACK_DIR/node-gpu.sh" "$NODE"
wait_for "default service account" 60 k get serviceaccount default -n default
log "cluster up in $((SECONDS - T_START))s — export KUBECONFIG=$KUBECONFIG"
k get nodes -o wide
