# Shared by tests/install/*_test.sh. Source it; it does nothing on its own.
#
#   install_use_cluster   sources $KUBABASE_CLUSTER_DIR/env (written by scripts/cluster-up.sh):
#                         KUBECONFIG, KUBECTL, HELM; fails the test when the cluster is absent
#   kubectl / helm        the control plane's own binaries (built from Go modules), with a
#                         bounded request timeout
#   fail MSG              prints and exits 1;  pass MSG prints a check that held
#   wait_for SECONDS CMD  retries CMD every half second; fails after SECONDS
set -euo pipefail

INSTALL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTALL_TESTDATA="$INSTALL_ROOT/tests/install/testdata"
KUBE_VERSION="${KUBABASE_KUBE_VERSION:-v1.36.3}"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

install_use_cluster() {
  local dir="${KUBABASE_CLUSTER_DIR:-}"
  [[ -n "$dir" ]] || fail "KUBABASE_CLUSTER_DIR is not set (run under ctest, or source the cluster's env file)"
  [[ -f "$dir/env" ]] || fail "$dir/env missing: is the control plane up? (scripts/cluster-up.sh)"
  # shellcheck disable=SC1091
  source "$dir/env"
  [[ -x "${KUBECTL:-}" ]] || fail "kubectl not found (KUBECTL=${KUBECTL:-}); run scripts/cluster-build.sh"
  [[ -x "${HELM:-}" ]] || fail "helm not found (HELM=${HELM:-}); run scripts/cluster-build.sh"
  KUBE_VERSION="${KUBABASE_KUBE_VERSION:-$KUBE_VERSION}"
  # Helm keeps its cache and config in a throwaway place: a test leaves nothing in $HOME.
  HELM_HOME_TMP="$(mktemp -d /tmp/kubabase-install-helm.XXXXXX)"
  export HELM_CACHE_HOME="$HELM_HOME_TMP/cache" HELM_CONFIG_HOME="$HELM_HOME_TMP/config" \
         HELM_DATA_HOME="$HELM_HOME_TMP/data"
  trap 'rm -rf "$HELM_HOME_TMP"' EXIT
}

kubectl() { "$KUBECTL" --request-timeout=30s "$@"; }
helm() { "$HELM" "$@"; }

wait_for() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${seconds}s waiting for: $*"
    sleep 0.5
  done
}

# Installs the Project CRD from crds/ (server-side apply, idempotent) and waits until it serves.
install_crd() {
  kubectl apply --server-side --force-conflicts --field-manager=kubabase-install-test \
    -f "$INSTALL_ROOT/crds/project.yaml" >/dev/null || fail "could not apply crds/project.yaml"
  kubectl wait --for=condition=Established --timeout=60s crd/projects.kubabase.io >/dev/null ||
    fail "CRD projects.kubabase.io not Established within 60s"
}
