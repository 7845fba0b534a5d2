# Common settings for hack/*.sh (sourced).
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$HACK_DIR/versions.env"
KUBETUNE_CACHE="${KUBETUNE_CACHE:-$HOME/.cache/kubetune}"
export GOMODCACHE="$KUBETUNE_CACHE/gomod" GOCACHE="$KUBETUNE_CACHE/gocache"
export GOFLAGS="-buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local
K8S_BIN="$KUBETUNE_CACHE/bin/k8s-$K8S_VERSION"
ETCD_BIN="$KUBETUNE_CACHE/bin/etcd-$ETCD_VERSION"
KWOK_BIN="$KUBETUNE_CACHE/bin/kwok-$KWOK_VERSION"
HELM_BIN="$KUBETUNE_CACHE/bin/helm-$HELM_VERSION"
IMAGE_CACHE="$KUBETUNE_CACHE/images"
STATE="$REPO_ROOT/.cluster"
export PATH="$K8S_BIN:$ETCD_BIN:$KWOK_BIN:$HELM_BIN:$PATH"

log() { printf '\033[1m[%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
