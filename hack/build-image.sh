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
containerd_up() { [[ -S /run/containerd/containerd.sock ]] && ctr version >/dev/null 2>&1; }
# Disk: the operator image is ~6 GB and exists up to four times (buildah layers, the archive, containerd's
# content store and its unpacked snapshot). Drop the superseded copies before building the new one.
# The kubelet's CRI adds a second reference, sha256:<image id>, to every image it uses; removing the
# name leaves that one and with it the whole old image (three 5.7 GiB operator images piled up so).
# So id references whose target no named image shares go too.
drop_orphan_ids() {
  ctr -n k8s.io images ls | awk 'NR > 1 {print $1, $3}' | python3 -c '
import sys
rows = [line.split() for line in sys.stdin if line.strip()]
named = {target for ref, target in rows if not ref.startswith("sha256:")}
print("\n".join(ref for ref, target in rows if ref.startswith("sha256:") and target not in named))' |
    xargs -r ctr -n k8s.io images rm --sync >/dev/null 2>&1 || true
}
rm -f "$ARCHIVE" "$ARCHIVE.inputs"
if containerd_up; then ctr -n k8s.io images rm --sync "$IMG" >/dev/null 2>&1 || true; drop_orphan_ids; fi
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
# DROP_AFTER_EXPORT=1 (the operator): the archive is the only copy kept besides containerd's; the layer
# cache goes too, so a rebuild starts cold (~10 min) but the disk holds 6 GB less, or 12 GB during builds.
buildah rmi --prune >/dev/null 2>&1 || true
if [[ ${DROP_AFTER_EXPORT:-0} == 1 ]]; then buildah rmi "$IMG" >/dev/null 2>&1 || true; buildah rmi --prune >/dev/null 2>&1 || true; fi
if containerd_up; then
  ctr -n k8s.io images import "$ARCHIVE" >/dev/null
  mkdir -p /var/lib/containerd/kubetune-imported && echo "$IMG" > "/var/lib/containerd/kubetune-imported/$(basename "$ARCHIVE").stamp"
  log "image $IMG: built and imported into containerd k8s.io ($((SECONDS - t0))s)"
else
  log "image $IMG: built, saved to $ARCHIVE (containerd not running: imported at cluster-up)"
fi
