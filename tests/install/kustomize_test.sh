#!/usr/bin/env bash
# `kubectl apply -k manifests/` against the local control plane's real apiserver:
#   1. the kustomization builds, and a server-side dry-run accepts every object (schema, CRD
#      structural rules, RBAC objects, Pod Security "restricted" on the Deployment's pod template);
#   2. the real apply creates every object, and a second apply changes nothing;
#   3. the Deployment rolls out (kwok simulates its 2 pods: admission, PSA and scheduling are real);
#   4. the ServiceAccount can do what the operator needs and not more (kubectl auth can-i,
#      answered by the apiserver's RBAC authorizer) once the manifests are installed: the allowed
#      list below is what tests/e2e/rbac_e2e_test.cc derived from the audit log of a real run;
#      the denied list is what a careless role would grant;
#   5. the ValidatingAdmissionPolicy confines that ServiceAccount's writes to the namespaces it
#      manages: a server-side dry-run as it is refused in kube-system and in a namespace without
#      the managed-by label, and accepted in one with it (tests/e2e/isolation_operator_e2e_test.cc
#      runs the operator under it).
source "$(dirname "$0")/lib.sh"
install_use_cluster
cd "$INSTALL_ROOT"
ns=kubabase-system
sa="system:serviceaccount:$ns:kubabase"

kubectl kustomize manifests/ >/dev/null || fail "kubectl kustomize manifests/ does not build"
pass "manifests/ builds"

# A server-side dry-run cannot create namespaced objects in a namespace that does not exist yet,
# so the Namespace (itself part of the kustomization) is applied first.
kubectl apply -f manifests/namespace.yaml >/dev/null || fail "could not apply manifests/namespace.yaml"
kubectl apply -k manifests/ --dry-run=server >/dev/null || fail "server-side dry-run of manifests/ failed"
pass "server-side dry-run accepts every object"

kubectl apply -k manifests/ >/dev/null || fail "kubectl apply -k manifests/ failed"
for obj in crd/projects.kubabase.io namespace/$ns clusterrole/kubabase clusterrolebinding/kubabase \
           validatingadmissionpolicy/kubabase-operator-reach \
           validatingadmissionpolicybinding/kubabase-operator-reach \
           "-n $ns serviceaccount/kubabase" "-n $ns role/kubabase-leader-election" \
           "-n $ns rolebinding/kubabase-leader-election" "-n $ns deployment/kubabase" \
           "-n $ns service/kubabase-metrics"; do
  # shellcheck disable=SC2086  # "-n ns kind/name" splits on purpose
  kubectl get $obj -o name >/dev/null || fail "$obj was not created"
done
pass "every object exists"

second="$(kubectl apply -k manifests/ 2>/dev/null)" || fail "second apply failed"
changed="$(grep -v ' unchanged$' <<<"$second" || true)"
[[ -z "$changed" ]] || fail "a second apply changed objects (something rewrites them):"$'\n'"$changed"
pass "a second apply changes nothing"

kubectl -n $ns rollout status deployment/kubabase --timeout=120s >/dev/null ||
  fail "deployment/kubabase did not roll out within 120s"
[[ "$(kubectl -n $ns get deployment kubabase -o jsonpath='{.status.readyReplicas}')" == 2 ]] ||
  fail "deployment/kubabase does not have 2 ready replicas"
pass "the operator Deployment rolled out with 2 ready pods (admitted under PSA restricted)"

args="$(kubectl -n $ns get deployment kubabase -o jsonpath='{.spec.template.spec.containers[0].args}')"
grep -q -- '--leader-elect=true' <<<"$args" || fail "the Deployment does not enable leader election"
[[ "$(kubectl -n $ns get endpointslices -l kubernetes.io/service-name=kubabase-metrics \
      -o jsonpath='{.items[*].endpoints[*].addresses[*]}' | wc -w)" -ge 1 ]] ||
  fail "service/kubabase-metrics selects no pod"
pass "leader election on; the metrics Service selects the operator's pods"

can() { kubectl auth can-i "$@" --as="$sa" >/dev/null 2>&1; }
allowed=(
  "list projects.kubabase.io" "watch projects.kubabase.io" "patch projects.kubabase.io"
  "patch projects.kubabase.io --subresource=status"
  "update projects.kubabase.io --subresource=finalizers"
  "create events -n default" "patch events -n project-x"
  "get namespaces" "get secrets -n project-x" "get secrets -n smtp-secrets"
  "get leases.coordination.k8s.io -n $ns" "create leases.coordination.k8s.io -n $ns"
  "update leases.coordination.k8s.io -n $ns"
)
for r in namespaces secrets configmaps services persistentvolumeclaims deployments.apps \
         statefulsets.apps jobs.batch ingresses.networking.k8s.io networkpolicies.networking.k8s.io; do
  for v in list watch create patch; do allowed+=("$v $r -A"); done
  [[ $r == persistentvolumeclaims ]] || allowed+=("delete $r -A")
done
# What a careless role would grant. tests/e2e/rbac_e2e_test.cc proves from the apiserver's audit
# log that the operator needs none of it.
denied=(
  "create projects.kubabase.io" "delete projects.kubabase.io" "update projects.kubabase.io"
  "get projects.kubabase.io" "update projects.kubabase.io --subresource=status"
  "delete persistentvolumeclaims -A" "get deployments.apps -A" "get configmaps -A"
  "update secrets -A" "deletecollection secrets -A" "get pods -A" "create pods -A" "create pods/exec -A"
  "get nodes" "create clusterroles.rbac.authorization.k8s.io" "create rolebindings.rbac.authorization.k8s.io -A"
  "escalate clusterroles.rbac.authorization.k8s.io" "impersonate users"
  "update customresourcedefinitions.apiextensions.k8s.io" "create serviceaccounts/token -A"
  "get leases.coordination.k8s.io -n kube-system" "delete leases.coordination.k8s.io -n $ns"
  "list leases.coordination.k8s.io -n $ns" "update deployments.apps -A" "delete events -n default"
)
for a in "${allowed[@]}"; do
  # shellcheck disable=SC2086
  can $a || fail "the operator's ServiceAccount may not: $a"
done
for d in "${denied[@]}"; do
  # shellcheck disable=SC2086
  ! can $d || fail "the operator's ServiceAccount may, but should not: $d"
done
pass "RBAC: ${#allowed[@]} needed permissions granted, ${#denied[@]} unneeded ones denied"

# 5. The policy: what RBAC grants everywhere, admission narrows to the managed namespaces.
managed=project-kustomize-reach
bare=project-kustomize-bare
work_err="$(mktemp /tmp/kubabase-kustomize-test.XXXXXX)"
trap 'kubectl delete namespace "$managed" "$bare" --wait=false >/dev/null 2>&1 || true; rm -rf "$work_err" "$HELM_HOME_TMP"' EXIT
kubectl apply -f - >/dev/null <<EOF || fail "could not create the test namespaces"
apiVersion: v1
kind: Namespace
metadata:
  name: $managed
  labels:
    app.kubernetes.io/managed-by: kubabase
---
apiVersion: v1
kind: Namespace
metadata:
  name: $bare
EOF
as_operator() { kubectl "$@" --as="$sa" --dry-run=server -o name; }
refused() { # namespace: the create must fail with the policy's message
  ! as_operator create configmap reach-probe -n "$1" >/dev/null 2>"$work_err" &&
    grep -q "kubabase-operator-reach.*kubabase may write configmaps only in namespaces named project-\*" "$work_err"
}
wait_for 30 refused kube-system  # the apiserver loads a new policy a moment after it is written
refused "$bare" || { cat "$work_err" >&2; fail "the policy let the operator write into $bare (no managed-by label)"; }
as_operator create configmap reach-probe -n "$managed" >/dev/null 2>"$work_err" ||
  { cat "$work_err" >&2; fail "the policy refused the operator's write into $managed"; }
! as_operator create namespace kustomize-evil >/dev/null 2>&1 || fail "the policy let the operator create namespace kustomize-evil"
pass "ValidatingAdmissionPolicy: the operator may write in $managed, not in kube-system, $bare or a new namespace"
