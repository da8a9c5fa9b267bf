#!/usr/bin/env bash
# Builds the local test control plane from the Go module proxy into $KUBABASE_CLUSTER_BIN
# (default ~/.cache/kubabase/bin):
#   tests/cluster/k8s   etcd v3.6.8, kube-apiserver, kube-controller-manager, kube-scheduler,
#                       kubectl from k8s.io/kubernetes v1.36.3 (version stamped via -ldflags)
#   tests/cluster/kwok  kwok, kwokctl v0.8.0
#   tests/cluster/helm  helm v3.22.0
# Each module is rebuilt only when its stamp (hash of go.mod, go.sum, this script, go version)
# changed or a binary is missing. Uses the default GOMODCACHE/GOCACHE, so a second build on the
# same machine takes seconds. Pass --force to rebuild anyway.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

force=0
[[ "${1:-}" == "--force" ]] && force=1

command -v go >/dev/null || cluster_die "go is not installed"
mkdir -p "$KUBABASE_CLUSTER_BIN" "$KUBABASE_CACHE/stamps"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

gover="$(go env GOVERSION)"
self="$KUBABASE_ROOT/scripts/cluster-build.sh"

stamp_of() { # module dir
  cat "$1/go.mod" "$1/go.sum" "$self" | { cat; echo "$gover"; } | sha256sum | cut -c1-32
}

kver="$KUBABASE_KUBE_VERSION"
kmajor="${kver#v}"; kmajor="${kmajor%%.*}"
kminor="${kver#v*.}"; kminor="${kminor%%.*}"
k8s_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$kver -X $p.gitMajor=$kmajor -X $p.gitMinor=$kminor"
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.gitCommit=$kver -X $p.buildDate=2026-01-01T00:00:00Z"
done

# build <module-dir-name> <binaries...> -- <go build args...>
build_module() {
  local name="$1"; shift
  local bins=() args=()
  while [[ "$1" != "--" ]]; do bins+=("$1"); shift; done
  shift; args=("$@")
  local dir="$KUBABASE_ROOT/tests/cluster/$name"
  local stamp_file="$KUBABASE_CACHE/stamps/$name" want have="" b ok=1
  want="$(stamp_of "$dir")"
  [[ -f "$stamp_file" ]] && have="$(cat "$stamp_file")"
  for b in "${bins[@]}"; do [[ -x "$KUBABASE_CLUSTER_BIN/$b" ]] || ok=0; done
  if ((force == 0 && ok == 1)) && [[ "$want" == "$have" ]]; then
    cluster_log "$name: up to date (${bins[*]})"
    return 0
  fi
  local t0=$SECONDS
  cluster_log "$name: building ${bins[*]} ..."
  rm -f "$stamp_file"
  (cd "$dir" && go build "${args[@]}") || cluster_die "$name: go build failed"
  echo "$want" >"$stamp_file"
  cluster_log "$name: built in $((SECONDS - t0)) s"
}

t_all=$SECONDS
build_module k8s kube-apiserver kube-controller-manager kube-scheduler kubectl -- \
  -ldflags "$k8s_ldflags" -o "$KUBABASE_CLUSTER_BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
# etcd's main package is the root of go.etcd.io/etcd/server/v3; same module, own stamp.
mkdir -p "$KUBABASE_CACHE/stamps"
if [[ ! -x "$KUBABASE_CLUSTER_BIN/etcd" || "$(cat "$KUBABASE_CACHE/stamps/etcd" 2>/dev/null)" != "$(stamp_of "$KUBABASE_ROOT/tests/cluster/k8s")" || $force == 1 ]]; then
  t0=$SECONDS
  cluster_log "k8s: building etcd ..."
  (cd "$KUBABASE_ROOT/tests/cluster/k8s" && go build -ldflags "-s -w" -o "$KUBABASE_CLUSTER_BIN/etcd" go.etcd.io/etcd/server/v3) \
    || cluster_die "etcd: go build failed"
  stamp_of "$KUBABASE_ROOT/tests/cluster/k8s" >"$KUBABASE_CACHE/stamps/etcd"
  cluster_log "k8s: etcd built in $((SECONDS - t0)) s"
else
  cluster_log "k8s: up to date (etcd)"
fi
build_module kwok kwok kwokctl -- -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kver#v}" -o "$KUBABASE_CLUSTER_BIN/" \
  sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
# helm: stamp its version, and make its offline default capabilities (helm template/lint without
# a cluster) the Kubernetes version we run, instead of the unstamped v1.20.
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  helm_ldflags+=" -X $p.k8sVersionMajor=$kmajor -X $p.k8sVersionMinor=$kminor"
done
build_module helm helm -- -ldflags "$helm_ldflags" -o "$KUBABASE_CLUSTER_BIN/" helm.sh/helm/v3/cmd/helm

cluster_check_binaries
cluster_log "all binaries ready in $KUBABASE_CLUSTER_BIN ($((SECONDS - t_all)) s)"
"$KUBABASE_CLUSTER_BIN/kube-apiserver" --version >&2
