#!/usr/bin/env bash
# Build an image from a Dockerfile without Docker and make it available to the cluster.
# Usage: hack/build-image.sh IMAGE DOCKERFILE CONTEXT
#   buildah bud --pull=never (FROM images must be local, e.g. from hack/base-image.sh), then a
#   docker-archive under $KUBETUNE_CACHE/images/ (re-imported by cluster-up), then — if containerd
#   runs — an import into its k8s.io namespace.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ $# -eq 3 ]] || die "usage: $0 IMAGE DOCKERFILE CONTEXT"
IMG=$1 DOCKERFILE=$2 CONTEXT=$3
mkdir -p "$IMAGE_CACHE"
ARCHIVE="$IMAGE_CACHE/$(echo "$IMG" | tr '/:' '__').tar"
t0=$SECONDS
previous=$(buildah images -q "$IMG" 2>/dev/null | head -1 || true)
log "image $IMG: buildah bud -f $DOCKERFILE $CONTEXT"
mkdir -p "$KUBETUNE_CACHE/logs"
blog="$KUBETUNE_CACHE/logs/build-$(basename "$ARCHIVE" .tar).log"
# chroot isolation: buildah's default OCI runtime (crun) refuses this host's hybrid cgroups.
# The host's CA bundle: pip inside RUN steps must trust what the host trusts (TLS-inspecting egress).
ca_mount=()
[[ -f /etc/ssl/certs/ca-certificates.crt ]] && ca_mount=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
buildah bud --pull=never --layers --isolation "${BUILDAH_ISOLATION:-chroot}" "${ca_mount[@]}" \
  --network "${BUILDAH_NETWORK:-host}" -f "$DOCKERFILE" -t "$IMG" "$CONTEXT" \
  > "$blog" 2>&1 || { tail -30 "$blog" >&2; die "buildah bud $IMG failed (full log: $blog)"; }
rm -f "$ARCHIVE.tmp"
buildah push --quiet "$IMG" "docker-archive:$ARCHIVE.tmp:$IMG" && mv "$ARCHIVE.tmp" "$ARCHIVE"
# The image this build superseded (not the layer cache, which keeps rebuilds incremental): for the
# operator that is gigabytes per rebuild.
if [[ -n $previous && $previous != "$(buildah images -q "$IMG" 2>/dev/null | head -1)" ]]; then
  buildah rmi "$previous" >/dev/null 2>&1 || true
fi
if [[ -S /run/containerd/containerd.sock ]] && ctr version >/dev/null 2>&1; then
  ctr -n k8s.io images import "$ARCHIVE" >/dev/null
  mkdir -p /var/lib/containerd/kubetune-imported && echo "$IMG" > "/var/lib/containerd/kubetune-imported/$(basename "$ARCHIVE").stamp"
  log "image $IMG: built and imported into containerd k8s.io ($((SECONDS - t0))s)"
else
  log "image $IMG: built, saved to $ARCHIVE (containerd not running: imported at cluster-up)"
fi
