#!/usr/bin/env bash
# A Project the operator has not seen yet must not look done to Flux or kpt. Against the real
# apiserver (no operator running), with crds/project.yaml:
#   1. a Project created without status is served with status {observedGeneration: 0} (the CRD's
#      structural default under status, applied on read though the status subresource is on),
#      in get, list and watch alike, and kstatus and the Flux rules of docs/gitops.md say
#      InProgress for it;
#   2. a status sent in the create request is dropped (the status subresource) and the default
#      is served instead;
#   3. a status the operator writes through the status subresource replaces the default:
#      Ready=True for the current generation is Current, the same with an older
#      observedGeneration after a spec change is InProgress;
#   4. the default makes no GitOps drift: re-applying the manifest with server-side apply
#      changes nothing.
source "$(dirname "$0")/../install/lib.sh"
install_use_cluster
checker="$("$INSTALL_ROOT/tests/health/build.sh")" || fail "could not build kstatus-check"
work="$(mktemp -d /tmp/kubabase-kstatus-test.XXXXXX)"
name="kstatus-$$"
cleanup() {
  kubectl delete project "$name" "$name-with-status" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$work" "$HELM_HOME_TMP"
}
trap cleanup EXIT

# The healthCheckExprs block of docs/gitops.md, as health_test.py reads it.
python3 - "$INSTALL_ROOT/docs/gitops.md" >"$work/kustomization.yaml" <<'PY'
import re, sys
blocks = [b for b in re.findall(r"```yaml\n(.*?)```", open(sys.argv[1]).read(), flags=re.S)
          if "healthCheckExprs:" in b]
assert len(blocks) == 1, f"{len(blocks)} healthCheckExprs blocks in docs/gitops.md"
sys.stdout.write(blocks[0])
PY

# expect_health FILE NAME KSTATUS FLUX: kstatus-check's verdict on the object in FILE.
expect_health() {
  local got
  got="$("$checker" -kustomization "$work/kustomization.yaml" "$1")" || fail "kstatus-check failed on $1"
  python3 - "$got" "$2" "$3" "$4" <<'PY' || fail "$2: $got"
import json, sys
got, what, kstatus, flux = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
assert got["kstatus"] == kstatus and got["flux"] == flux, f"want kstatus {kstatus}, flux {flux}"
PY
  pass "$2: kstatus $3, flux $4"
}

install_crd

# The watch starts before the create, so its first event is the object as created.
kubectl get projects --watch --output-watch-events -o json >"$work/watch.json" 2>/dev/null &
watcher=$!
sleep 1
cat >"$work/project.yaml" <<EOF
apiVersion: kubabase.io/v1alpha1
kind: Project
metadata:
  name: $name
spec: {}
EOF
kubectl create -f "$work/project.yaml" -o json >"$work/created.json" || fail "could not create Project $name"
kubectl get project "$name" -o json >"$work/get.json"
kubectl get projects -o json >"$work/list.json"
for _ in $(seq 1 20); do grep -q "\"$name\"" "$work/watch.json" && break; sleep 0.5; done
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true

for what in created get; do
  python3 - "$work/$what.json" <<'PY' || fail "$what: status is not {observedGeneration: 0}"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["metadata"]["generation"] == 1, o["metadata"]
assert o.get("status") == {"observedGeneration": 0}, o.get("status")
PY
done
pass "create and get serve the new Project with status {observedGeneration: 0}"
expect_health "$work/get.json" "a new Project, as get serves it" InProgress InProgress
python3 - "$work/list.json" "$name" >"$work/listed.json" <<'PY' || fail "list does not serve the default"
import json, sys
o = next(i for i in json.load(open(sys.argv[1]))["items"] if i["metadata"]["name"] == sys.argv[2])
assert o.get("status") == {"observedGeneration": 0}, o.get("status")
json.dump(o, sys.stdout)
PY
expect_health "$work/listed.json" "a new Project, as list serves it" InProgress InProgress
# kubectl --watch -o json prints one JSON event object after another; take the first for $name.
python3 - "$work/watch.json" "$name" >"$work/watched.json" <<'PY' || fail "the watch event does not carry the default"
import json, sys
text, decoder, at = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    event, at = decoder.raw_decode(text, at)
    o = event["object"]
    if o["metadata"]["name"] == sys.argv[2]:
        break
assert event["type"] == "ADDED", event["type"]
assert o.get("status") == {"observedGeneration": 0}, o.get("status")
json.dump(o, sys.stdout)
PY
expect_health "$work/watched.json" "a new Project, as a watch delivers it" InProgress InProgress

# 2. A status in the create request is not taken: the status subresource owns status.
cat >"$work/with-status.yaml" <<EOF
apiVersion: kubabase.io/v1alpha1
kind: Project
metadata:
  name: $name-with-status
spec: {}
status:
  observedGeneration: 1
  conditions:
    - {type: Ready, status: "True", reason: Forged, message: forged, lastTransitionTime: "2026-01-01T00:00:00Z"}
EOF
kubectl create -f "$work/with-status.yaml" >/dev/null || fail "could not create $name-with-status"
kubectl get project "$name-with-status" -o json >"$work/with-status.json"
expect_health "$work/with-status.json" "a Project created with a status in the request" InProgress InProgress

# 3. The operator's status write replaces the default.
write_status() { # observedGeneration
  kubectl patch project "$name" --subresource=status --type=merge -p "$(cat <<EOF
{"status": {"observedGeneration": $1, "phase": "Ready", "conditions": [
  {"type": "Ready", "status": "True", "reason": "AllComponentsReady", "message": "every component is ready",
   "observedGeneration": $1, "lastTransitionTime": "2026-01-01T00:00:00Z"},
  {"type": "Reconciling", "status": "False", "reason": "Reconciled", "message": "nothing in progress",
   "observedGeneration": $1, "lastTransitionTime": "2026-01-01T00:00:00Z"},
  {"type": "Stalled", "status": "False", "reason": "NotStalled", "message": "no problem",
   "observedGeneration": $1, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}
EOF
)" >/dev/null || fail "could not write status"
}
write_status 1
kubectl get project "$name" -o json >"$work/ready.json"
expect_health "$work/ready.json" "Ready=True written for generation 1" Current Current
kubectl patch project "$name" --type=merge -p '{"spec": {"paused": true}}' >/dev/null || fail "could not edit spec"
kubectl get project "$name" -o json >"$work/edited.json"
expect_health "$work/edited.json" "the same status after a spec change (generation 2)" InProgress InProgress

# 4. A GitOps tool re-applying the manifest sees no drift from the defaulted status.
kubectl apply --server-side --field-manager=kstatus-test -f "$work/project.yaml" >/dev/null &&
  rv1="$(kubectl get project "$name" -o jsonpath='{.metadata.resourceVersion}')" &&
  kubectl apply --server-side --field-manager=kstatus-test -f "$work/project.yaml" >/dev/null &&
  rv2="$(kubectl get project "$name" -o jsonpath='{.metadata.resourceVersion}')" ||
  fail "server-side apply of $name failed"
[[ "$rv1" == "$rv2" ]] || fail "re-applying the manifest changed the object (rv $rv1 -> $rv2)"
pass "re-applying the manifest with server-side apply changes nothing"
