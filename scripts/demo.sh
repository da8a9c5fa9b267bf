#!/usr/bin/env bash
# The README's first command: from a fresh Debian 12 machine to a Supabase project reconciled to
# Ready on a local control plane.
#   1. Debian packages, then the operator (CMake/Ninja, Release) and the control plane's binaries
#      (Go modules; cached after the first run);
#   2. the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok fake
#      nodes: pods are simulated, no container runs);
#   3. the Project CRD, the operator as a local process (leader election off), and
#      samples/project-minimal.yaml; waits for Ready=True and shows `kubectl get proj` and the keys.
# The cluster and the operator keep running afterwards so you can explore; stop both with
#   scripts/demo.sh --down
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export KUBABASE_CLUSTER_DIR=${KUBABASE_CLUSTER_DIR:-/tmp/kubabase-demo}
operator_pid_file=$KUBABASE_CLUSTER_DIR/operator.pid
operator_log=$KUBABASE_CLUSTER_DIR/operator.log
metrics_address=${KUBABASE_DEMO_METRICS_ADDRESS:-127.0.0.1:18080}
sample=${KUBABASE_DEMO_SAMPLE:-samples/project-minimal.yaml}

stop_operator() {
  if [[ -f $operator_pid_file ]]; then
    local pid
    pid=$(cat "$operator_pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$operator_pid_file"
  fi
}

if [[ ${1:-} == --down ]]; then
  stop_operator
  ./scripts/cluster-down.sh
  exit 0
fi

./scripts/install-deps.sh
echo "== building the operator and its kubectl plugin (build/)"
KUBABASE_TARGETS="kubabase kubectl-kubabase" ./scripts/build.sh build
./scripts/cluster-build.sh
./scripts/cluster-up.sh
# shellcheck disable=SC1091
source "$KUBABASE_CLUSTER_DIR/env"
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

echo "== installing the Project CRD"
kubectl apply --server-side --field-manager=kubabase-demo -f crds/project.yaml
kubectl wait --for=condition=Established --timeout=60s crd/projects.kubabase.io

echo "== starting the operator (log: $operator_log)"
stop_operator
nohup "$root/build/controller/kubabase" --kubeconfig "$KUBECONFIG" --leader-elect=false \
  --metrics-bind-address "$metrics_address" >"$operator_log" 2>&1 &
echo $! >"$operator_pid_file"

echo "== applying $sample"
kubectl apply --server-side --field-manager=kubabase-demo -f "$sample"
name=$(kubectl get -f "$sample" -o jsonpath='{.metadata.name}')
if ! kubectl wait --for=condition=Ready --timeout=180s "project/$name"; then
  echo "project/$name did not become Ready; its status and the operator's last log lines:" >&2
  kubectl get project "$name" -o yaml >&2 || true
  tail -n 40 "$operator_log" >&2 || true
  exit 1
fi

echo
kubectl get proj
namespace=$(kubectl get project "$name" -o jsonpath='{.status.keysSecret.namespace}')
secret=$(kubectl get project "$name" -o jsonpath='{.status.keysSecret.name}')
echo
echo "Keys of project $name (Secret $namespace/$secret):"
echo "  SUPABASE_URL=$(kubectl get secret -n "$namespace" "$secret" -o jsonpath='{.data.SUPABASE_URL}' | base64 -d)"
echo "  ANON_KEY=$(kubectl get secret -n "$namespace" "$secret" -o jsonpath='{.data.ANON_KEY}' | base64 -d)"
echo "  (SERVICE_ROLE_KEY is in the same Secret; keep it server-side)"
echo
echo "The cluster and the operator keep running. Try:"
echo "  source $KUBABASE_CLUSTER_DIR/env && \$KUBECTL get proj,ns && \$KUBECTL get all -n $namespace"
echo "  PATH=\"$root/build/controller/plugin:\$PATH\" \$KUBECTL kubabase status $name   # the kubectl plugin"
echo "Stop both with: scripts/demo.sh --down"
