#!/usr/bin/env bash
# The kubectl plugin (controller/plugin, binary kubectl-kubabase) against the real apiserver:
#   - kubectl finds it on PATH and runs it as `kubectl kubabase`;
#   - status prints phase, endpoints, components and conditions from a Project's status;
#   - keys prints SUPABASE_URL and SUPABASE_ANON_KEY from the Secret status.keysSecret names, as
#     env (eval-able), dotenv and json; SUPABASE_SERVICE_ROLE_KEY only with --service-role; never
#     JWT_SECRET;
#   - pause / resume merge-patch spec.paused alone (generation moves, other spec fields and their
#     owners stay), under the field manager kubectl-kubabase;
#   - a missing Project, a Project without keys yet, and bad arguments fail with exit 1 / 2 and a
#     message that says what to do.
# The status and Secret are written by this test (no operator runs here): what the plugin reads is
# the contract of the CRD's status, proven against the operator by the e2e suite.
# Usage: plugin_test.sh PLUGIN_BINARY
source "$(dirname "$0")/lib.sh"
install_use_cluster
plugin_bin="${1:?path of kubectl-kubabase}"
[[ -x "$plugin_bin" ]] || fail "$plugin_bin not built"
name="it-plugin-$$"
ns="it-plugin-keys-$$"
work="$(mktemp -d /tmp/kubabase-plugin-test.XXXXXX)"
cleanup() {
  kubectl delete project "$name" --wait=false >/dev/null 2>&1 || true
  kubectl delete project "$name-new" --wait=false >/dev/null 2>&1 || true
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work" "$HELM_HOME_TMP"
}
trap cleanup EXIT
mkdir -p "$work/bin"
ln -s "$(readlink -f "$plugin_bin")" "$work/bin/kubectl-kubabase"
kk() { PATH="$work/bin:$PATH" "$KUBECTL" kubabase --kubeconfig "$KUBECONFIG" "$@"; }

install_crd
kubectl apply --server-side --field-manager=gitops -f - >/dev/null <<EOF2 || fail "could not create the Project"
apiVersion: kubabase.io/v1alpha1
kind: Project
metadata: {name: $name}
spec: {displayName: Plugin test, rest: {replicas: 2}}
EOF2
kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" create secret generic api-keys \
  --from-literal=SUPABASE_URL="http://$name.kubabase.localhost" \
  --from-literal=ANON_KEY=anon.test.jwt --from-literal=SERVICE_ROLE_KEY=service.test.jwt \
  --from-literal=JWT_SECRET=jwt-secret-that-must-never-be-printed-000 >/dev/null
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kubectl patch project "$name" --subresource=status --type=merge -p "$(cat <<EOF2
{"status": {"observedGeneration": 1, "phase": "Ready", "namespace": "$ns",
  "endpoints": {"api": "http://$name.kubabase.localhost", "rest": "http://$name.kubabase.localhost/rest/v1"},
  "keysSecret": {"namespace": "$ns", "name": "api-keys"},
  "components": {"database": {"desired": 1, "ready": 1, "image": "supabase/postgres:15.8.1.085"},
                 "rest": {"desired": 2, "ready": 1, "image": "postgrest/postgrest:v14.5"}},
  "conditions": [{"type": "Ready", "status": "True", "reason": "AllComponentsReady", "message": "all components ready", "lastTransitionTime": "$now", "observedGeneration": 1}]}}
EOF2
)" >/dev/null || fail "could not write the Project's status"

out="$(kk status "$name")" || fail "kubectl kubabase status failed"
for want in "Phase:       Ready" "api      http://$name.kubabase.localhost" "database  1/1" "rest      1/2" \
            "AllComponentsReady" "Secret $ns/api-keys" "observed 1)"; do
  grep -qF -- "$want" <<<"$out" || fail "status lacks '$want':"$'\n'"$out"
done
pass "kubectl kubabase status: phase, endpoints, components, conditions"

out="$(kk keys "$name" -o dotenv)" || fail "keys -o dotenv failed"
[[ "$out" == "SUPABASE_URL=\"http://$name.kubabase.localhost\""$'\n'"SUPABASE_ANON_KEY=\"anon.test.jwt\"" ]] ||
  fail "keys -o dotenv printed:"$'\n'"$out"
out="$(kk keys "$name" --service-role -o json)" || fail "keys -o json failed"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d=={"SUPABASE_URL":sys.argv[2],"SUPABASE_ANON_KEY":"anon.test.jwt","SUPABASE_SERVICE_ROLE_KEY":"service.test.jwt"}, d' \
  "$out" "http://$name.kubabase.localhost" || fail "keys --service-role -o json printed: $out"
(eval "$(kk keys "$name")" && [[ "$SUPABASE_ANON_KEY" == anon.test.jwt && -z "${SUPABASE_SERVICE_ROLE_KEY:-}" ]]) ||
  fail "eval \"\$(kubectl kubabase keys)\" does not set SUPABASE_ANON_KEY alone"
all="$(kk keys "$name" --service-role; kk keys "$name" -o json --service-role; kk status "$name")"
! grep -q 'jwt-secret-that-must-never' <<<"$all" || fail "the plugin printed JWT_SECRET"
pass "kubectl kubabase keys: env (eval), dotenv, json; service_role only when asked; never JWT_SECRET"

gen="$(kubectl get project "$name" -o jsonpath='{.metadata.generation}')"
kk pause "$name" >/dev/null || fail "pause failed"
[[ "$(kubectl get project "$name" -o jsonpath='{.spec.paused}')" == true ]] || fail "pause did not set spec.paused"
[[ "$(kubectl get project "$name" -o jsonpath='{.metadata.generation}')" == $((gen + 1)) ]] || fail "pause did not bump generation"
[[ "$(kubectl get project "$name" -o jsonpath='{.spec.displayName}/{.spec.rest.replicas}')" == "Plugin test/2" ]] ||
  fail "pause changed other spec fields"
managers="$(kubectl get project "$name" --show-managed-fields -o jsonpath='{range .metadata.managedFields[*]}{.manager}:{.operation};{end}')"
grep -q 'kubectl-kubabase:Update' <<<"$managers" || fail "pause was not written by field manager kubectl-kubabase ($managers)"
kk resume "$name" >/dev/null || fail "resume failed"
[[ "$(kubectl get project "$name" -o jsonpath='{.spec.paused}')" == false ]] || fail "resume did not clear spec.paused"
pass "kubectl kubabase pause/resume: spec.paused alone, as kubectl-kubabase"

set +e
err="$(kk status no-such-project-$$ 2>&1)"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q 'not found' <<<"$err" || fail "status of a missing project: rc $rc, '$err'"
kubectl apply -f - >/dev/null <<EOF2
apiVersion: kubabase.io/v1alpha1
kind: Project
metadata: {name: $name-new}
EOF2
set +e
err="$(kk keys "$name-new" 2>&1)"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q 'no keys Secret yet' <<<"$err" || fail "keys of a project without keys: rc $rc, '$err'"
set +e
err="$(kk frobnicate "$name" 2>&1)"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q 'unknown command' <<<"$err" || fail "a bad command: rc $rc, '$err'"
kk --help | grep -q 'kubectl kubabase keys' || fail "--help prints no usage"
pass "errors: missing project (1), no keys yet (1), bad command (2), --help"
