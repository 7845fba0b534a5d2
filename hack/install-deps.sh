#!/usr/bin/env bash
# Install the host packages the local cluster needs (Debian 12). Quick no-op when all are present.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PKGS=(containerd runc buildah debootstrap containernetworking-plugins iptables conntrack socat
      openssl ethtool ebtables iproute2 kmod util-linux mount procps ca-certificates curl python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v go >/dev/null || die "Go is needed to build the cluster binaries (go1.23+)"
[[ ${#missing[@]} -eq 0 ]] && { log "host packages: all present"; exit 0; }
[[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
  { apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
# Debian's package may have started containerd through its init script; we run our own.
log "host packages installed"
