#!/usr/bin/env bash
# The Helm chart, with helm built from its Go module (scripts/cluster-build.sh), against the local
# control plane's real apiserver:
#   1. `helm lint --strict` passes for the default values and for values-all.yaml (every option);
#   2. values.schema.json rejects nonsense, and the chart refuses 2 replicas without leader election;
#   3. `helm template` piped to `kubectl apply --dry-run=server` is accepted, for both value sets
#      (the CRD included; a stand-in ServiceMonitor CRD for values-all);
#   4. the ServiceMonitor selects the metrics Service and scrapes its port;
#   5. the chart's ClusterRole and Role grant exactly what manifests/ grants (one RBAC story), and
#      its ValidatingAdmissionPolicy is manifests/' one for the release's ServiceAccount, namespace
#      prefix and events namespace;
#   6. a real `helm install --wait` rolls the operator out (pods simulated by kwok) and
#      `helm uninstall` removes it again, leaving the CRD in place as Helm documents.
source "$(dirname "$0")/lib.sh"
install_use_cluster
cd "$INSTALL_ROOT"
chart=charts/kubabase
all=tests/install/values-all.yaml
ns=kubabase-helm-test
release=kbtest
kv=(--kube-version "$KUBE_VERSION")
work="$(mktemp -d /tmp/kubabase-helm-test.XXXXXX)"
trap 'rm -rf "$work" "$HELM_HOME_TMP"' EXIT

helm lint --strict "$chart" "${kv[@]}" >"$work/lint" 2>&1 || { cat "$work/lint"; fail "helm lint (default values)"; }
helm lint --strict "$chart" "${kv[@]}" -f "$all" >"$work/lint" 2>&1 || { cat "$work/lint"; fail "helm lint (values-all.yaml)"; }
pass "helm lint --strict: default values and values-all.yaml"

# Each case must fail for its own reason: the error names the value at fault (schema errors) or
# is the template's own `fail` text. A failure of any other kind (a template that no longer
# renders, a broken schema file, a missing chart) would otherwise count as a rejection.
rejects() { # description, extended regex the error must match (case-insensitive), helm template args...
  local what="$1" reason="$2"; shift 2
  if helm template x "$chart" "${kv[@]}" "$@" >/dev/null 2>"$work/err"; then
    fail "the chart accepted $what"
  fi
  grep -Eiq -- "$reason" "$work/err" || { cat "$work/err" >&2; fail "the chart refused $what, but not with an error matching /$reason/"; }
}
rejects "operator.logFormat=xml" "operator[./]logFormat.*one of" --set operator.logFormat=xml
rejects "an unknown top-level value (typo)" "additional propert(y|ies) '?replicas'? (is )?not allowed" --set replicas=3
rejects "an unknown operator value (typo)" "operator.*additional propert(y|ies) '?baseDomian'? (is )?not allowed" \
  --set operator.baseDomian=x.example.com
rejects "image.digest that is not sha256" "image[./]digest.*pattern" --set image.digest=latest
rejects "2 replicas without leader election" "replicaCount > 1 needs leaderElection\.enabled" \
  --set replicaCount=2 --set leaderElection.enabled=false
rejects "an events namespace that is not a DNS label" "operator[./]eventsNamespace.*pattern" \
  --set "operator.eventsNamespace=a'b"
rejects "a ServiceMonitor without the metrics Service" "serviceMonitor\.enabled needs metrics\.service\.enabled" \
  --set serviceMonitor.enabled=true --set metrics.service.enabled=false
pass "values.schema.json and the templates reject nonsense, each with its own error"

kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f "$INSTALL_TESTDATA/servicemonitor-crd.yaml" >/dev/null || fail "could not install the stand-in ServiceMonitor CRD"
kubectl wait --for=condition=Established --timeout=60s crd/servicemonitors.monitoring.coreos.com >/dev/null ||
  fail "stand-in ServiceMonitor CRD not Established"

helm template "$release" "$chart" -n "$ns" "${kv[@]}" --include-crds >"$work/default.yaml" || fail "helm template (default values)"
helm template "$release" "$chart" -n "$ns" "${kv[@]}" --include-crds -f "$all" >"$work/all.yaml" || fail "helm template (values-all.yaml)"
for f in default all; do
  kubectl apply --dry-run=server -f "$work/$f.yaml" >"$work/$f.dry" 2>&1 || { cat "$work/$f.dry"; fail "server-side dry-run of helm template ($f values)"; }
done
grep -q '^servicemonitor.monitoring.coreos.com/' "$work/all.dry" || fail "values-all.yaml rendered no ServiceMonitor"
! grep -q 'ServiceMonitor' "$work/default.yaml" || fail "the default values render a ServiceMonitor (it must be off by default)"
pass "helm template | kubectl apply --dry-run=server: default values ($(grep -c . "$work/default.dry") objects) and values-all.yaml ($(grep -c . "$work/all.dry") objects)"

python3 - "$work/all.yaml" "$work/default.yaml" manifests "$ns" "$release" <<'PY' || fail "chart and manifests disagree (see above)"
import sys, yaml, glob
def docs(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]
def find(ds, kind):
    return [d for d in ds if d["kind"] == kind]
every = docs(sys.argv[1])
# 4. ServiceMonitor -> metrics Service -> operator pods.
sm, = find(every, "ServiceMonitor")
svc, = find(every, "Service")
dep, = find(every, "Deployment")
sel = sm["spec"]["selector"]["matchLabels"]
assert all(svc["metadata"]["labels"].get(k) == v for k, v in sel.items()), "ServiceMonitor does not select the metrics Service"
assert sm["spec"]["endpoints"][0]["port"] in [p["name"] for p in svc["spec"]["ports"]], "ServiceMonitor port is not a Service port"
assert all(dep["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items()), "metrics Service does not select the operator pods"
c = dep["spec"]["template"]["spec"]["containers"][0]
assert "--metrics-bind-address=:9090" in c["args"] and c["ports"][0]["containerPort"] == 9090
assert c["image"].endswith("@sha256:" + "0123456789abcdef" * 4), c["image"]
for flag in ["--base-domain=api.example.com", "--namespace-prefix=sb-", "--ingress-class=nginx",
             "--ingress-namespace=ingress-system", "--events-namespace=kubabase-events",
             "--image-postgres=supabase/postgres:15.8.1.085@sha256:af083ef64d0408c8f098ee6f5c364a59b26f36fbc0f3a334a62c5c1d57362e9b",
             "--image-gotrue=supabase/gotrue:v2.186.0@sha256:f2112b9289422f205df4ea15b8b550d425ae42528ea54521faa32cc7b62490de",
             "--leader-election-id=kubabase-all", "--workers=8", "--log-format=text",
             "--shared-secrets-namespace=platform-secrets",
             "--allowed-secret-namespaces=mail,object-storage",
             "--egress-dns-namespace=openshift-dns",
             "--egress-dns-labels=app=dns,dns.operator.openshift.io/daemonset-dns=default",
             "--egress-denied-cidrs=10.0.0.0/8,169.254.0.0/16,fd00::/8",
             "--egress-allowed-cidrs=10.96.12.34/32,fd00:ec2::23/128"]:
    assert flag in c["args"], "values-all.yaml: missing operator flag " + flag
# 5. One RBAC story: the same rules in the chart and in manifests/.
def rules(ds, kind):
    r, = find(ds, kind)
    return sorted((tuple(x["apiGroups"]), tuple(sorted(x["resources"])), tuple(sorted(x["verbs"]))) for x in r["rules"])
manifest_docs = [d for f in glob.glob(sys.argv[3] + "/*.yaml") for d in docs(f)]
default = docs(sys.argv[2])
for kind in ["ClusterRole", "Role"]:
    assert rules(default, kind) == rules(manifest_docs, kind), kind + " differs between charts/kubabase and manifests/"
# The default chart's pod is the manifests' pod: same security, probes, resources.
md, = find(manifest_docs, "Deployment"); cd, = find(default, "Deployment")
for key in ["securityContext", "livenessProbe", "readinessProbe", "resources"]:
    assert md["spec"]["template"]["spec"]["containers"][0][key] == cd["spec"]["template"]["spec"]["containers"][0][key], key
assert md["spec"]["template"]["spec"]["securityContext"] == cd["spec"]["template"]["spec"]["securityContext"]
# Where Secret references may point (docs/security.md): the same by default in both installs.
for flag in ["--shared-secrets-namespace=kubabase-shared", "--allowed-secret-namespaces="]:
    for name, d in [("manifests/", md), ("the default chart", cd)]:
        assert flag in d["spec"]["template"]["spec"]["containers"][0]["args"], name + " lacks " + flag

# A fresh install by either route restricts project egress the same way.
egress = lambda d: [a for a in d["spec"]["template"]["spec"]["containers"][0]["args"] if a.startswith("--egress-")]
assert egress(md) == egress(cd) and len(egress(md)) == 4, (egress(md), egress(cd))
assert md["spec"]["replicas"] == cd["spec"]["replicas"] == 2
# The admission policy: manifests/' one, with the release's names; values-all's settings in it.
def policy(ds):
    p, = find(ds, "ValidatingAdmissionPolicy")
    b, = find(ds, "ValidatingAdmissionPolicyBinding")
    assert b["spec"]["policyName"] == p["metadata"]["name"], "the binding names another policy"
    assert b["spec"]["validationActions"] == ["Deny"], b["spec"]
    return p["spec"], {v["name"]: v["expression"] for v in p["spec"]["variables"]}
ns, release = sys.argv[4], sys.argv[5]
chart_spec, _ = policy(default)
manifest_spec, _ = policy(manifest_docs)
import json
normalized = json.dumps(chart_spec).replace(f"system:serviceaccount:{ns}:{release}-kubabase",
                                            "system:serviceaccount:kubabase-system:kubabase")
normalized = json.loads(normalized.replace(f"'{ns}'", "'kubabase-system'"))
assert normalized == manifest_spec, "the chart's ValidatingAdmissionPolicy differs from manifests/operator-reach-policy.yaml"
all_spec, variables = policy(every)
assert all_spec["matchConditions"][0]["expression"] == f"request.userInfo.username == 'system:serviceaccount:{ns}:kubabase-operator'", all_spec["matchConditions"]
assert variables["namespacePrefix"] == "'sb-'" and variables["eventsNamespace"] == "'kubabase-events'", variables
assert variables["operatorNamespace"] == f"'{ns}'" and variables["sharedSecretsNamespace"] == "'platform-secrets'", variables
print("ok: ServiceMonitor -> Service -> pods; every operator value reaches its flag; RBAC, admission policy and pod spec match manifests/")
PY

helm uninstall "$release" -n "$ns" --wait --timeout 60s >/dev/null 2>&1 || true  # a leftover from an aborted run
helm install "$release" "$chart" -n "$ns" --wait --timeout 120s >"$work/install" 2>&1 ||
  { cat "$work/install"; fail "helm install --wait"; }
grep -q 'Create your first Project' "$work/install" || fail "NOTES.txt was not shown after install"
[[ "$(kubectl -n "$ns" get deployment "$release-kubabase" -o jsonpath='{.status.readyReplicas}')" == 2 ]] ||
  fail "helm install: deployment $release-kubabase does not have 2 ready replicas"
kubectl auth can-i watch projects.kubabase.io --as="system:serviceaccount:$ns:$release-kubabase" >/dev/null 2>&1 ||
  fail "helm install: the ServiceAccount cannot watch Projects"
kubectl get validatingadmissionpolicybinding "$release-kubabase-operator-reach" >/dev/null ||
  fail "helm install: no ValidatingAdmissionPolicyBinding $release-kubabase-operator-reach"
pass "helm install --wait: the operator rolled out with 2 ready pods, its RBAC and its admission policy"
helm uninstall "$release" -n "$ns" --wait --timeout 120s >/dev/null || fail "helm uninstall"
! kubectl get clusterrole "$release-kubabase" >/dev/null 2>&1 || fail "helm uninstall left the ClusterRole"
! kubectl get validatingadmissionpolicy "$release-kubabase-operator-reach" >/dev/null 2>&1 ||
  fail "helm uninstall left the ValidatingAdmissionPolicy"
kubectl get crd projects.kubabase.io >/dev/null || fail "helm uninstall removed the CRD (Helm must leave crds/ in place)"
kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
pass "helm uninstall removes the release and keeps the CRD"
