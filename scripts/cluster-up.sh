#!/usr/bin/env bash
# Starts the local test control plane (built by scripts/cluster-build.sh) and waits until it is
# ready: /readyz answers, a kwok fake node is Ready, the default ServiceAccount exists.
#
# Everything listens on 127.0.0.1 only, on free ports picked at start (a lock serialises
# starts, so two clusters with different KUBABASE_CLUSTER_DIR never collide). Components,
# all processes run by kwokctl's binary runtime from our binaries (it never downloads):
#   etcd, kube-apiserver (TLS, RBAC+Node authorization, SA token signing, the default admission
#   plugins plus OwnerReferencesPermissionEnforcement, an audit log), kube-controller-manager
#   (all default controllers, host-path provisioner on), kube-scheduler, kwok (fake nodes; pods
#   are simulated, no container ever runs).
# A default StorageClass "standard" (kubernetes.io/host-path, volumes under /tmp/hostpath_pv)
# makes PVCs bind.
#
# If a cluster answering /readyz is already up in KUBABASE_CLUSTER_DIR, it is reused as is
# (exit 0). A stale one (not ready) is torn down first.
#
# The audit log ($KUBABASE_CLUSTER_DIR/audit.log, JSON lines) records, at Metadata level, every
# request made by a ServiceAccount of the namespace kubabase-system (the operator's identity in
# manifests/), and nothing else: the e2e tests run the operator as that ServiceAccount and derive
# from it the permissions it really uses (tests/e2e/rbac_e2e_test.cc).
# OwnerReferencesPermissionEnforcement is on (as on OpenShift) so that setting blockOwnerDeletion
# on a child really needs update on the owner's finalizers, as the operator's role says.
#
# Output: $KUBABASE_CLUSTER_DIR/kubeconfig and $KUBABASE_CLUSTER_DIR/env (source it).
# Knobs: KUBABASE_CLUSTER_DIR, KUBABASE_CLUSTER_NODES (default 1), KUBABASE_CLUSTER_TIMEOUT
# (seconds, default 180).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster-env.sh"

t_start=$SECONDS
nodes="${KUBABASE_CLUSTER_NODES:-1}"
timeout="${KUBABASE_CLUSTER_TIMEOUT:-180}"
cluster_check_binaries
mkdir -p "$KUBABASE_CLUSTER_DIR"
KUBABASE_CLUSTER_DIR="$(cd "$KUBABASE_CLUSTER_DIR" && pwd)"
kubeconfig="$KUBABASE_CLUSTER_DIR/kubeconfig"
envfile="$KUBABASE_CLUSTER_DIR/env"
kubectl=("$KUBABASE_CLUSTER_BIN/kubectl" --kubeconfig "$kubeconfig")

print_result() {
  echo "kubeconfig: $kubeconfig"
  echo "env file:   $envfile   (source it)"
  cat "$envfile"
}

if [[ -L "$KUBABASE_CLUSTER_DIR/data" || -f "$kubeconfig" ]]; then
  if cluster_ready && [[ -f "$envfile" ]]; then
    cluster_log "cluster in $KUBABASE_CLUSTER_DIR is already up: reusing it"
    print_result
    exit 0
  fi
  cluster_log "stale cluster state in $KUBABASE_CLUSTER_DIR: cleaning it first"
  "$KUBABASE_ROOT/scripts/cluster-down.sh" || cluster_die "could not clean the stale cluster"
fi

data="$(mktemp -d /tmp/kubabase-cluster-data.XXXXXX)"
ln -sfn "$data" "$KUBABASE_CLUSTER_DIR/data"
cluster_kwok_env

fail() {
  echo "[cluster] ERROR: $*" >&2
  local f
  for f in "$data"/kwok/clusters/*/logs/*.log; do
    [[ -f "$f" ]] || continue
    echo "----- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
  echo "[cluster] leaving the half-started cluster to scripts/cluster-down.sh (KUBABASE_CLUSTER_DIR=$KUBABASE_CLUSTER_DIR)" >&2
  exit 1
}

# Ports: kwokctl picks free ones itself; serialise starts so that two starts at the same
# moment cannot pick the same port before either binds it. (9>&- keeps the lock out of the
# daemons kwokctl forks.)
exec 9>/tmp/kubabase-cluster-ports.lock
flock -w "$timeout" 9 || cluster_die "timed out waiting for another cluster start (lock /tmp/kubabase-cluster-ports.lock)"

cat >"$data/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts:kubabase-system"]
- level: None
EOF

b="$KUBABASE_CLUSTER_BIN"
cat >"$data/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: $KUBABASE_KUBE_VERSION
  bindAddress: 127.0.0.1
  securePort: true
  kubeAuthorization: true
  kubeAdmission: true
  quietPull: true
  cacheDir: $data/cache
  etcdBinary: $b/etcd
  kubeApiserverBinary: $b/kube-apiserver
  kubeControllerManagerBinary: $b/kube-controller-manager
  kubeSchedulerBinary: $b/kube-scheduler
  kwokControllerBinary: $b/kwok
  kubectlBinary: $b/kubectl
  kubeAuditPolicy: $data/audit-policy.yaml
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: enable-admission-plugins
    value: OwnerReferencesPermissionEnforcement
- name: kube-controller-manager
  extraArgs:
  - key: enable-hostpath-provisioner
    value: "true"
  - key: controllers
    value: "*"
EOF

cluster_log "starting control plane in $data (cluster dir $KUBABASE_CLUSTER_DIR)"
"$b/kwokctl" --config "$data/kwokctl.yaml" --name "$KUBABASE_CLUSTER_NAME" \
  create cluster --runtime binary --kubeconfig "$kubeconfig" --wait "${timeout}s" \
  >"$data/kwokctl-create.log" 2>&1 9>&- || { cat "$data/kwokctl-create.log" >&2; fail "kwokctl create cluster failed"; }
chmod 600 "$kubeconfig"
"${kubectl[@]}" config use-context "kwok-$KUBABASE_CLUSTER_NAME" >/dev/null

deadline=$((SECONDS + timeout))
until cluster_ready; do
  ((SECONDS < deadline)) || fail "apiserver /readyz not ok after ${timeout}s"
  sleep 0.5
done
flock -u 9

"$b/kwokctl" --config "$data/kwokctl.yaml" --name "$KUBABASE_CLUSTER_NAME" \
  scale node --replicas "$nodes" >>"$data/kwokctl-create.log" 2>&1 || fail "kwokctl scale node failed"

"${kubectl[@]}" apply -f - >/dev/null <<'EOF' || fail "could not create the default StorageClass"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

until "${kubectl[@]}" wait --for=condition=Ready node --all --timeout=5s >/dev/null 2>&1 &&
      "${kubectl[@]}" get node -o name 2>/dev/null | grep -q .; do
  ((SECONDS < deadline)) || fail "no Ready node after ${timeout}s"
  sleep 0.5
done
until "${kubectl[@]}" -n default get serviceaccount default >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "default ServiceAccount not created after ${timeout}s"
  sleep 0.5
done

audit_log="$(ls "$data"/kwok/clusters/*/logs/audit.log 2>/dev/null | head -n 1 || true)"
[[ -f "$audit_log" ]] || fail "the apiserver writes no audit log under $data/kwok/clusters"
ln -sfn "$audit_log" "$KUBABASE_CLUSTER_DIR/audit.log"

server="$("${kubectl[@]}" config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
cat >"$envfile" <<EOF
# Written by scripts/cluster-up.sh; source it.
export KUBABASE_CLUSTER_DIR='$KUBABASE_CLUSTER_DIR'
export KUBABASE_CLUSTER_BIN='$KUBABASE_CLUSTER_BIN'
export KUBECONFIG='$kubeconfig'
export KUBABASE_KUBECONFIG='$kubeconfig'
export KUBABASE_APISERVER='$server'
export KUBABASE_KUBE_VERSION='$KUBABASE_KUBE_VERSION'
export KUBECTL='$KUBABASE_CLUSTER_BIN/kubectl'
export HELM='$KUBABASE_CLUSTER_BIN/helm'
export KUBABASE_AUDIT_LOG='$KUBABASE_CLUSTER_DIR/audit.log'
EOF
cluster_log "control plane ready at $server in $((SECONDS - t_start)) s ($nodes fake node(s); pods are simulated)"
print_result
