#!/usr/bin/env bash
# Build the pinned cluster binaries from the Go module proxy into $KUBETUNE_CACHE/bin/<name>-<version>/.
# Idempotent: a binary that exists is not rebuilt. Usage: hack/build-bins.sh [kube|etcd|kwok|helm ...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NICE=(nice -n 10)
BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

timed() { # timed LABEL CMD... — run CMD, log wall time; fail loudly
  local label=$1 t0=$SECONDS; shift
  "$@" || die "building $label failed"
  log "built $label in $((SECONDS - t0))s"
}

# staging_version MODULE — v0.Y.Z for k8s $K8S_VERSION; if the proxy lacks that exact version (seen:
# k8s.io/endpointslice@v0.32.13 is "not available"), the newest published v0.Y.<=Z, with a warning.
staging_version() {
  local m=$1 want="v0.${K8S_VERSION#v1.}" minor patch v
  [[ $m == k8s.io/sample-* ]] && { echo "$want"; return; }   # examples, never built
  if go mod download "$m@$want" >/dev/null 2>&1; then echo "$want"; return; fi
  minor=${want%.*} patch=${want##*.}
  for v in $(go list -m -versions "$m" 2>/dev/null | tr ' ' '\n' | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -rV); do
    if (( ${v##*.} <= patch )) && go mod download "$m@$v" >/dev/null 2>&1; then
      log "WARNING: $m@$want is not on the module proxy; using $v" ; echo "$v"; return
    fi
  done
  echo "$want"
}

build_kube() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy) missing=() c
  for c in "${cmds[@]}"; do [[ -x $K8S_BIN/$c ]] || missing+=("$c"); done
  [[ ${#missing[@]} -eq 0 ]] && { log "kubernetes $K8S_VERSION: cached in $K8S_BIN"; return; }
  log "kubernetes $K8S_VERSION: building ${missing[*]} (cold: ~12 min on 2 busy cores, warm GOCACHE: ~4 min)"
  local src="$KUBETUNE_CACHE/src/kube-$K8S_VERSION" minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  mkdir -p "$src" "$K8S_BIN"
  if [[ ! -f $src/go.mod.done ]]; then
    # The wrapper module: require k8s.io/kubernetes and replace each staging module (read from
    # k8s.io/kubernetes's own go.mod, where they point at ./staging/...) with its published v0.Y.Z.
    local upstream_mod
    upstream_mod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    {
      echo "module kubetune.local/gosrc/kube"
      echo
      echo "go 1.23.0"
      echo
      echo "godebug default=go1.23"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      for m in $(sed -nE 's#^\s*(k8s\.io/[^ ]+) => \./staging/.*#\1#p' "$upstream_mod"); do
        printf '\t%s => %s %s\n' "$m" "$m" "$(cd / && staging_version "$m")"
      done
      echo ")"
    } > "$src/go.mod"
    touch "$src/go.mod.done"
  fi
  local pkg ld=() v
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for v in "gitVersion=$K8S_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean "buildDate=$BUILD_DATE"; do
      ld+=("-X" "$pkg.$v")
    done
  done
  for c in "${missing[@]}"; do
    (cd "$src" && timed "$c" "${NICE[@]}" go build -mod=mod -trimpath -ldflags "-s -w ${ld[*]}" \
      -o "$K8S_BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$K8S_BIN/$c.tmp" "$K8S_BIN/$c"
  done
}

build_etcd() {
  [[ -x $ETCD_BIN/etcd ]] && { log "etcd $ETCD_VERSION: cached"; return; }
  log "etcd $ETCD_VERSION: building"
  local src="$KUBETUNE_CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$src" "$ETCD_BIN"
  cp "$HACK_DIR/gosrc/etcd/main.go" "$HACK_DIR/gosrc/etcd/go.mod" "$src/"
  (cd "$src" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  (cd "$src" && timed etcd "${NICE[@]}" go build -mod=mod -trimpath \
     -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" -o "$ETCD_BIN/etcd.tmp" .)
  mv "$ETCD_BIN/etcd.tmp" "$ETCD_BIN/etcd"
}

build_kwok() {
  [[ -x $KWOK_BIN/kwok ]] && { log "kwok $KWOK_VERSION: cached"; return; }
  log "kwok $KWOK_VERSION: building"
  mkdir -p "$KWOK_BIN"
  timed kwok env GOBIN="$KWOK_BIN" "${NICE[@]}" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_helm() {
  [[ -x $HELM_BIN/helm ]] && { log "helm $HELM_VERSION: cached"; return; }
  log "helm $HELM_VERSION: building"
  mkdir -p "$HELM_BIN"
  timed helm env GOBIN="$HELM_BIN" "${NICE[@]}" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# One build at a time (make cluster-up from a test fixture and a shell at once).
mkdir -p "$KUBETUNE_CACHE"; exec 9> "$KUBETUNE_CACHE/.build.lock"
flock -n 9 || { log "another build holds $KUBETUNE_CACHE/.build.lock, waiting"; flock 9; }
targets=("$@"); [[ ${#targets[@]} -eq 0 ]] && targets=(kube etcd kwok helm)
t0=$SECONDS
for t in "${targets[@]}"; do "build_$t"; done
log "binaries ready ($((SECONDS - t0))s)"
