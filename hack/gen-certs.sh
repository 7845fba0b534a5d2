#!/usr/bin/env bash
# Generate the cluster PKI with openssl into .cluster/pki. Idempotent per file: what exists is kept;
# a new node name or IP (or a missing CA key) regenerates everything.
# Usage: hack/gen-certs.sh NODE_NAME NODE_IP
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NODE=$1 NODE_IP=$2
PKI="$STATE/pki"
mkdir -p "$PKI" && cd "$PKI"
if [[ ! -f done-$NODE-$NODE_IP || ! -f ca.key ]]; then
  rm -f ./*.crt ./*.key ./*.pub ./*.srl ./done-*
fi
made=()

ca() { # ca NAME CN
  [[ -f $1.crt ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout "$1.key" -out "$1.crt" -subj "/CN=$2" 2>/dev/null
  made+=("$1")
}
# cert NAME SUBJECT USAGE [SANS] [CA] — a key and a certificate signed by CA (default: ca).
cert() {
  local name=$1 subj=$2 usage=$3 sans=${4:-} ca=${5:-ca}
  [[ -f $name.crt ]] && return
  local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$usage"
  [[ -n $sans ]] && ext+=$'\n'"subjectAltName=$sans"
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
  made+=("$name")
}

ca ca kubetune-local-ca
ca front-proxy-ca kubetune-front-proxy-ca
if [[ ! -f sa.key ]]; then   # service-account token signing key pair
  openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  made+=(sa)
fi
cert etcd-server "/CN=etcd" serverAuth,clientAuth "IP:127.0.0.1,DNS:localhost"
cert apiserver-etcd-client "/CN=kube-apiserver-etcd-client" clientAuth
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:$NODE,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE" clientAuth
cert kubelet-serving "/CN=$NODE" serverAuth "IP:127.0.0.1,IP:$NODE_IP,DNS:$NODE,DNS:localhost"
cert kwok "/O=system:masters/CN=kwok-controller" clientAuth
chmod 600 ./*.key
touch "done-$NODE-$NODE_IP"
if [[ ${#made[@]} -gt 0 ]]; then log "certificates: generated ${made[*]} in $PKI"; else log "certificates: present"; fi
