# Shared settings for scripts/cluster-*.sh. Source it; it does nothing on its own.
#
#   KUBABASE_CACHE        build cache, survives between runs   (default ~/.cache/kubabase)
#   KUBABASE_CLUSTER_BIN  built binaries                      (default $KUBABASE_CACHE/bin)
#   KUBABASE_CLUSTER_DIR  one running cluster: kubeconfig, env file, link to its temp data
#                         (default /tmp/kubabase-cluster; ctest sets <build>/cluster)
#
# The cluster dir holds:
#   kubeconfig   admin kubeconfig (system:masters client cert, https://127.0.0.1:<port>)
#   env          shell file to source: KUBECONFIG, KUBABASE_APISERVER, KUBECTL, HELM, ...
#   data ->      symlink to the temp dir (/tmp/kubabase-cluster-data.XXXX) with etcd data, PKI, logs

set -o pipefail

KUBABASE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBABASE_CACHE="${KUBABASE_CACHE:-$HOME/.cache/kubabase}"
KUBABASE_CLUSTER_BIN="${KUBABASE_CLUSTER_BIN:-$KUBABASE_CACHE/bin}"
KUBABASE_CLUSTER_DIR="${KUBABASE_CLUSTER_DIR:-/tmp/kubabase-cluster}"
KUBABASE_CLUSTER_NAME="${KUBABASE_CLUSTER_NAME:-kubabase}"
KUBABASE_KUBE_VERSION="v1.36.3"

# Every binary the control plane needs; cluster-up refuses to start if one is missing
# (kwokctl would otherwise try to download it, which cannot work here).
KUBABASE_CLUSTER_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl helm)

export GOTOOLCHAIN=local
export PATH="$KUBABASE_CLUSTER_BIN:$PATH"

cluster_log() { echo "[cluster $(date -u +%H:%M:%S)] $*" >&2; }
cluster_die() { echo "[cluster] ERROR: $*" >&2; exit 1; }

cluster_check_binaries() {
  local b missing=()
  for b in "${KUBABASE_CLUSTER_BINARIES[@]}"; do
    [[ -x "$KUBABASE_CLUSTER_BIN/$b" ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    cluster_die "missing binaries in $KUBABASE_CLUSTER_BIN: ${missing[*]} (run scripts/cluster-build.sh)"
  fi
}

# kwokctl keeps its clusters under KWOK_WORKDIR; we point it into the cluster's temp data dir.
cluster_kwok_env() {
  export KWOK_WORKDIR="$KUBABASE_CLUSTER_DIR/data/kwok"
  export KWOK_RUNTIME=binary
}

cluster_kwokctl() {
  cluster_kwok_env
  "$KUBABASE_CLUSTER_BIN/kwokctl" --name "$KUBABASE_CLUSTER_NAME" "$@"
}

# The apiserver answers /readyz with "ok" to the admin client certificate.
cluster_ready() {
  [[ -f "$KUBABASE_CLUSTER_DIR/kubeconfig" ]] || return 1
  "$KUBABASE_CLUSTER_BIN/kubectl" --kubeconfig "$KUBABASE_CLUSTER_DIR/kubeconfig" \
    --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

# PIDs of live (non-zombie) processes of this cluster: kwokctl's pid files, plus any process
# whose command line names this cluster's data dir (a unique temp path, or the link to it).
cluster_pids() {
  local data pidf p link="$KUBABASE_CLUSTER_DIR/data/"
  data="$(readlink -f "$KUBABASE_CLUSTER_DIR/data" 2>/dev/null)" || return 0
  [[ -n "$data" && -d "$data" ]] || return 0
  {
    for pidf in "$data"/kwok/clusters/*/pids/*.pid; do
      [[ -f "$pidf" ]] && cat "$pidf" 2>/dev/null && echo
    done
    grep -laF -e "$data/" -e "$link" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
  } | while read -r p; do
    [[ "$p" =~ ^[0-9]+$ && "$p" != "$$" ]] || continue
    # field 3 of /proc/PID/stat is the state; Z is a zombie (already dead)
    [[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" =~ ^[RSDTtWXxKPI]$ ]] && echo "$p"
  done | sort -un
  return 0
}
