#!/usr/bin/env bash
# samples/ against the real apiserver, with the CRD from crds/:
#   1. project-full.yaml sets every spec field the CRD defines (samples_cover_schema.py);
#   2. every sample passes a server-side dry-run (schema, CEL rules, defaults);
#   3. every sample, applied for real (under a test name), shows in `kubectl get proj` with the
#      printer columns, and is GitOps-stable: re-applying it with server-side apply from the same
#      field manager changes nothing served, and nothing at all (same resourceVersion) once the
#      first update has stored the defaulted status, and from a second field manager (a
#      second GitOps tool, or Argo CD after kubectl) meets no conflict and leaves spec and
#      generation as they were. (That the operator itself never writes spec is proven by the e2e
#      suite, with the operator running.)
source "$(dirname "$0")/lib.sh"
install_use_cluster
cd "$INSTALL_ROOT"
work="$(mktemp -d /tmp/kubabase-samples-test.XXXXXX)"
created=()
cleanup() {
  local p
  for p in "${created[@]}"; do kubectl delete project "$p" --wait=false >/dev/null 2>&1 || true; done
  rm -rf "$work" "$HELM_HOME_TMP"
}
trap cleanup EXIT

python3 tests/install/samples_cover_schema.py crds/project.yaml samples/project-full.yaml ||
  fail "samples/project-full.yaml does not use every field"

install_crd
for f in samples/*.yaml; do
  kubectl apply --dry-run=server -f "$f" >/dev/null || fail "server-side dry-run rejected $f"
done
pass "server-side dry-run accepts every sample: $(cd samples && echo *.yaml)"

for f in samples/*.yaml; do
  base="$(basename "$f" .yaml)"
  name="it-${base#project-}-$$"
  created+=("$name")
  python3 - "$f" "$name" >"$work/$name.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
doc["metadata"]["name"] = sys.argv[2]
doc["metadata"].setdefault("labels", {})["kubabase.io/test"] = "install-samples"
yaml.safe_dump(doc, sys.stdout, sort_keys=False)
PY
  kubectl apply --server-side --field-manager=gitops-one -f "$work/$name.yaml" >/dev/null ||
    fail "$f: first server-side apply failed"
  # The CRD defaults status to {observedGeneration: 0} (docs/gitops.md, Health). The apiserver
  # serves that default from the create on but stores it with the first update, so the first
  # re-apply may bump resourceVersion once; it must change nothing that is served.
  served() { kubectl get project "$name" -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
del o["metadata"]["resourceVersion"]
print(json.dumps(o, sort_keys=True))'; }
  served0="$(served)"
  kubectl apply --server-side --field-manager=gitops-one -f "$work/$name.yaml" >/dev/null ||
    fail "$f: server-side re-apply failed"
  [[ "$(served)" == "$served0" ]] || fail "$f: re-applying the same manifest changed the object"
  rv1="$(kubectl get project "$name" -o jsonpath='{.metadata.resourceVersion}')"
  gen1="$(kubectl get project "$name" -o jsonpath='{.metadata.generation}')"
  spec1="$(kubectl get project "$name" -o jsonpath='{.spec}')"

  kubectl apply --server-side --field-manager=gitops-one -f "$work/$name.yaml" >/dev/null ||
    fail "$f: second server-side apply (same manager) failed"
  rv2="$(kubectl get project "$name" -o jsonpath='{.metadata.resourceVersion}')"
  [[ "$rv1" == "$rv2" ]] || fail "$f: re-applying the same manifest changed the object (rv $rv1 -> $rv2)"

  kubectl apply --server-side --field-manager=gitops-two -f "$work/$name.yaml" >"$work/two.out" 2>&1 ||
    { cat "$work/two.out"; fail "$f: a second field manager applying the same manifest met a conflict"; }
  gen3="$(kubectl get project "$name" -o jsonpath='{.metadata.generation}')"
  spec3="$(kubectl get project "$name" -o jsonpath='{.spec}')"
  [[ "$gen1" == "$gen3" && "$spec1" == "$spec3" ]] ||
    fail "$f: a second field manager's identical apply changed spec (generation $gen1 -> $gen3)"
  pass "$f: applied as $name; idempotent for one field manager, conflict-free for a second"
done

# The whole listing first: `| head -1` could end kubectl with SIGPIPE, and pipefail would then
# stop the test without a word.
listing="$(kubectl get projects -l kubabase.io/test=install-samples)" ||
  fail "kubectl get projects failed"
header="${listing%%$'\n'*}"
for col in NAME PHASE READY HOST AGE; do
  grep -qw "$col" <<<"$header" || fail "kubectl get proj shows no $col column (header: $header)"
done
[[ "$(kubectl get proj -l kubabase.io/test=install-samples -o name | wc -l)" == "${#created[@]}" ]] ||
  fail "kubectl get proj (short name) does not list the ${#created[@]} samples"
pass "kubectl get proj lists them with columns: $header"
