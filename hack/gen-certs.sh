#!/usr/bin/env bash
# Generate the cluster PKI with openssl into .cluster/pki (idempotent: existing files are kept).
# Usage: hack/gen-certs.sh NODE_NAME NODE_IP
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODE=$1 NODE_IP=$2
PKI="$STATE/pki"
mkdir -p "$PKI" && cd "$PKI"
[[ -f done-$NODE-$NODE_IP ]] && { log "certificates: present"; exit 0; }
log "certificates: generating in $PKI"
rm -f ./*.crt ./*.key ./*.pub ./*.csr ./done-*

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout ca.key -out ca.crt \
  -subj "/CN=kubetune-local-ca" 2>/dev/null
# Service-account token signing key pair.
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null

# cert NAME SUBJECT USAGE [SANS] — a key and a CA-signed certificate.
cert() {
  local name=$1 subj=$2 usage=$3 sans=${4:-}
  local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$usage"
  [[ -n $sans ]] && ext+=$'\n'"subjectAltName=$sans"
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}
cert etcd-server "/CN=etcd" serverAuth,clientAuth "IP:127.0.0.1,DNS:localhost"
cert apiserver-etcd-client "/CN=kube-apiserver-etcd-client" clientAuth
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:$NODE,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE" clientAuth
cert kubelet-serving "/CN=$NODE" serverAuth "IP:127.0.0.1,IP:$NODE_IP,DNS:$NODE,DNS:localhost"
cert kwok "/O=system:masters/CN=kwok-controller" clientAuth
chmod 600 ./*.key
touch "done-$NODE-$NODE_IP"
