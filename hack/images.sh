#!/usr/bin/env bash
# Local images without Docker or a registry.
#   hack/images.sh cluster  — pause (sandbox) + base + testbox images; import cached archives into containerd
#   hack/images.sh all      — the above plus the project images (trainer, operator when its Dockerfile exists)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MODE=${1:-all}
mkdir -p "$IMAGE_CACHE"

# Pause image: a static Go program, tagged exactly as containerd's sandbox_image.
PAUSE_ARCHIVE="$IMAGE_CACHE/pause.tar"
if [[ ! -f $PAUSE_ARCHIVE ]]; then
  log "image $PAUSE_IMAGE: building static pause"
  bindir="$KUBETUNE_CACHE/bin/pause"; mkdir -p "$bindir"
  (cd "$HACK_DIR/gosrc/pause" && go build -trimpath -ldflags "-s -w" -o "$bindir/pause" .)
  c=$(buildah from scratch)
  buildah copy "$c" "$bindir/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  buildah commit --quiet "$c" "$PAUSE_IMAGE" >/dev/null && buildah rm "$c" >/dev/null
  buildah push --quiet "$PAUSE_IMAGE" "docker-archive:$PAUSE_ARCHIVE.tmp:$PAUSE_IMAGE" && mv "$PAUSE_ARCHIVE.tmp" "$PAUSE_ARCHIVE"
fi

"$HACK_DIR/base-image.sh"

archive_of() { echo "$IMAGE_CACHE/$(echo "$1" | tr '/:' '__').tar"; }
# build IMAGE DOCKERFILE CONTEXT — rebuild only when the content of its inputs changed (a hash of the
# Dockerfile and the context files it can see, kept beside the archive). Modification times would not
# do: a fresh clone (CI) makes every file look new and would rebuild the 6 GB operator image each run.
build() {
  local img=$1 df=$2 ctx=$3 a inputs
  a=$(archive_of "$img")
  inputs=$("$HACK_DIR/context-hash.py" "$df" "$ctx")
  if [[ -f $a && $(cat "$a.inputs" 2>/dev/null) == "$inputs" ]]; then
    log "image $img: up to date"
  else
    "$HACK_DIR/build-image.sh" "$img" "$df" "$ctx"
    echo "$inputs" > "$a.inputs"
  fi
}
build docker.io/kubetune/testbox:0.1.0 "$HACK_DIR/testbox/Dockerfile" "$HACK_DIR/testbox"
if [[ $MODE == all ]]; then
  [[ -f $REPO_ROOT/trainer-image/Dockerfile ]] || die "trainer-image/Dockerfile missing"
  build docker.io/kubetune/trainer:0.1.0 "$REPO_ROOT/trainer-image/Dockerfile" "$REPO_ROOT/trainer-image"
  if [[ -f $REPO_ROOT/operator/Dockerfile ]]; then
    DROP_AFTER_EXPORT=1 build docker.io/kubetune/operator:0.1.0 "$REPO_ROOT/operator/Dockerfile" "$REPO_ROOT"
  fi
fi

# Import every cached archive into containerd's k8s.io namespace when containerd runs and the image
# is missing there or the archive changed since the last import.
if [[ -S /run/containerd/containerd.sock ]] && ctr version >/dev/null 2>&1; then
  stamps=/var/lib/containerd/kubetune-imported; mkdir -p "$stamps"
  present=$(ctr -n k8s.io images ls -q)
  for a in "$IMAGE_CACHE"/*.tar; do
    stamp="$stamps/$(basename "$a").stamp"   # holds the image name; newer than the archive = imported
    if [[ $stamp -nt $a ]] && grep -qxF "$(cat "$stamp")" <<< "$present"; then continue; fi
    name=$(tar -xOf "$a" manifest.json | python3 -c '
import json, sys
n = json.load(sys.stdin)[0]["RepoTags"][0]
first = n.split("/")[0]
if "/" not in n: n = "docker.io/library/" + n
elif "." not in first and ":" not in first and first != "localhost": n = "docker.io/" + n
print(n)')
    if ! grep -qxF "$name" <<< "$present" || [[ ! $stamp -nt $a ]]; then
      log "containerd: importing $name ($(du -h "$a" | cut -f1))"
      ctr -n k8s.io images import "$a" >/dev/null
    fi
    echo "$name" > "$stamp"
  done
  log "containerd k8s.io images: $(ctr -n k8s.io images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
fi
