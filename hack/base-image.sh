#!/usr/bin/env bash
# Build the Debian base image docker.io/library/debian:bookworm-slim with debootstrap (minbase + python3)
# and buildah — once: the image is cached as a docker-archive under $KUBETUNE_CACHE/images.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
IMG=docker.io/library/debian:bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ARCHIVE="$IMAGE_CACHE/debian-bookworm-slim.tar"
mkdir -p "$IMAGE_CACHE"
if [[ ! -f $ARCHIVE ]]; then
  t0=$SECONDS
  log "base image: debootstrap bookworm (minbase + python3) from $MIRROR"
  work=$(mktemp -d "$KUBETUNE_CACHE/debootstrap.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$work/rootfs" "$MIRROR" \
    > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; die "debootstrap failed"; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
  c=$(buildah from scratch)
  buildah add "$c" "$work/rootfs.tar" / >/dev/null
  buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  buildah commit --quiet "$c" "$IMG" >/dev/null
  buildah rm "$c" >/dev/null
  buildah push --quiet "$IMG" "docker-archive:$ARCHIVE.tmp:$IMG" && mv "$ARCHIVE.tmp" "$ARCHIVE"
  log "base image: built in $((SECONDS - t0))s"
elif ! buildah inspect --type image "$IMG" >/dev/null 2>&1; then
  log "base image: loading cached $ARCHIVE into buildah"
  buildah pull --quiet "docker-archive:$ARCHIVE" >/dev/null
  buildah tag "$(buildah images -q --filter reference="$IMG" | head -1)" "$IMG" 2>/dev/null || true
else
  log "base image: cached"
fi
