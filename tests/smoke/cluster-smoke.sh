#!/usr/bin/env bash
# Smoke test of the local control plane (scripts/cluster-up.sh must have run).
# Proves the pieces work together, each wait bounded:
#   a Deployment becomes Ready; a StatefulSet with a volumeClaimTemplate becomes Ready and its PVC
#   Bound (default StorageClass, host-path provisioner); a Job completes (kwok marks its pod
#   Succeeded); an owner-referenced object is garbage-collected; a CRD with a status subresource
#   and a CEL rule (x-kubernetes-validations) is served, its status is writable only through
#   /status, and a bad object is rejected; a namespace deletion finishes.
# Exits non-zero on the first failure. Pods are simulated by kwok: no container runs.
set -euo pipefail

cluster_dir="${KUBABASE_CLUSTER_DIR:-/tmp/kubabase-cluster}"
[[ -f "$cluster_dir/env" ]] || { echo "FAIL: no $cluster_dir/env; run scripts/cluster-up.sh first" >&2; exit 1; }
source "$cluster_dir/env"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" --request-timeout=20s "$@"; }

T="${SMOKE_TIMEOUT:-90}"   # seconds per wait
ns="smoke-$(date +%s)-$$"
crd_group="smoke$$.kubabase.io"
passed=0
t0=$SECONDS

ok()   { passed=$((passed + 1)); echo "ok   $* ($((SECONDS - t0)) s)"; }
fail() {
  echo "FAIL $*" >&2
  k -n "$ns" get all,pvc,events -o wide >&2 2>/dev/null || true
  echo "$passed passed, 1 failed"
  exit 1
}
cleanup() {
  k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  k delete crd "widgets.$crd_group" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

# wait_until <timeout-seconds> <command...>: polls every 0.5 s.
wait_until() {
  local limit=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < limit)) || return 1
    sleep 0.5
  done
}

k create namespace "$ns" >/dev/null || fail "create namespace"
wait_until "$T" k -n "$ns" get serviceaccount default || fail "default ServiceAccount in $ns"

k -n "$ns" apply -f - >/dev/null <<'EOF' || fail "apply workloads"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: registry.k8s.io/pause:3.10
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Mi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.k8s.io/pause:3.10}]
EOF

k -n "$ns" rollout status deployment/web --timeout="${T}s" >/dev/null || fail "Deployment web Ready"
ok "Deployment with 2 replicas Ready"

k -n "$ns" wait --for=jsonpath='{.status.phase}'=Bound pvc/data-db-0 --timeout="${T}s" >/dev/null \
  || fail "PVC data-db-0 Bound (default StorageClass)"
k -n "$ns" rollout status statefulset/db --timeout="${T}s" >/dev/null || fail "StatefulSet db Ready"
ok "StatefulSet with a volumeClaimTemplate Ready, PVC Bound"

k -n "$ns" wait --for=condition=Complete job/once --timeout="${T}s" >/dev/null || fail "Job once Complete"
ok "Job completed"

# Garbage collection: a child ConfigMap owned by a parent goes away with it.
k -n "$ns" create configmap parent >/dev/null || fail "create parent"
puid="$(k -n "$ns" get configmap parent -o jsonpath='{.metadata.uid}')"
k -n "$ns" apply -f - >/dev/null <<EOF || fail "create child"
apiVersion: v1
kind: ConfigMap
metadata:
  name: child
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: parent, uid: "$puid"}]
EOF
k -n "$ns" delete configmap parent --cascade=background >/dev/null || fail "delete parent"
wait_until "$T" bash -c "! '$KUBECTL' --kubeconfig '$KUBECONFIG' -n '$ns' get configmap child" \
  || fail "child ConfigMap garbage-collected"
ok "owner-referenced object garbage-collected"

# CRD with a status subresource and a CEL validation rule.
k apply -f - >/dev/null <<EOF || fail "create CRD"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$crd_group}
spec:
  group: $crd_group
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "self.minReplicas <= self.maxReplicas"
              message: "minReplicas must not exceed maxReplicas"
            properties:
              minReplicas: {type: integer}
              maxReplicas: {type: integer}
          status:
            type: object
            properties:
              phase: {type: string}
EOF
k wait --for=condition=Established "crd/widgets.$crd_group" --timeout="${T}s" >/dev/null || fail "CRD Established"
wait_until "$T" k -n "$ns" get "widgets.$crd_group" || fail "CRD served"
widget() { printf 'apiVersion: %s/v1\nkind: Widget\nmetadata: {name: %s}\nspec: {minReplicas: %s, maxReplicas: %s}\n' "$crd_group" "$1" "$2" "$3"; }
widget good 1 3 | k -n "$ns" create -f - >/dev/null || fail "create valid Widget"
if out="$(widget bad 5 2 | k -n "$ns" create -f - 2>&1)"; then
  fail "invalid Widget was accepted"
fi
grep -q "minReplicas must not exceed maxReplicas" <<<"$out" || fail "invalid Widget rejected for another reason: $out"
k -n "$ns" patch "widgets.$crd_group" good --type=merge --subresource=status -p '{"status":{"phase":"Ready"}}' >/dev/null \
  || fail "patch Widget status through /status"
[[ "$(k -n "$ns" get "widgets.$crd_group" good -o jsonpath='{.status.phase}')" == Ready ]] || fail "Widget status written"
k -n "$ns" patch "widgets.$crd_group" good --type=merge -p '{"status":{"phase":"Ignored"}}' >/dev/null || true
[[ "$(k -n "$ns" get "widgets.$crd_group" good -o jsonpath='{.status.phase}')" == Ready ]] \
  || fail "status changed through the main resource despite the status subresource"
ok "CRD with status subresource and CEL rule served; bad object rejected"

# Namespace deletion finishes (pods, PVCs, custom objects inside).
k delete namespace "$ns" --wait=false >/dev/null || fail "delete namespace"
wait_until "$((T * 2))" bash -c "! '$KUBECTL' --kubeconfig '$KUBECONFIG' get namespace '$ns'" \
  || fail "namespace deletion finished"
ok "namespace deletion finished"
k delete crd "widgets.$crd_group" --timeout="${T}s" >/dev/null || fail "delete CRD"

echo "$passed passed, 0 failed"
