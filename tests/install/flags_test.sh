#!/usr/bin/env bash
# Every flag that manifests/deployment.yaml and the Helm chart (default values and values-all.yaml)
# pass to the operator is one `kubabase --help` lists, so an install never crash-loops on an
# unknown or renamed flag. Needs the operator binary and helm (scripts/cluster-build.sh), no
# cluster.
# Usage: flags_test.sh OPERATOR_BINARY
source "$(dirname "$0")/lib.sh"
binary="${1:?operator binary}"
helm_bin="${HELM:-${KUBABASE_CLUSTER_BIN:-$HOME/.cache/kubabase/bin}/helm}"
[[ -x "$helm_bin" ]] || fail "helm not found at $helm_bin (run scripts/cluster-build.sh)"
work="$(mktemp -d /tmp/kubabase-flags-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export HELM_CACHE_HOME="$work/cache" HELM_CONFIG_HOME="$work/config" HELM_DATA_HOME="$work/data"

help="$(timeout 10 "$binary" --help 2>&1)" || fail "$binary --help failed"
known="$(grep -oE '^ +--[a-z0-9-]+' <<<"$help" | tr -d ' ' | sort -u)"
[[ -n "$known" ]] || fail "$binary --help lists no flags"

cd "$INSTALL_ROOT"
"$helm_bin" template kb charts/kubabase --kube-version "$KUBE_VERSION" >"$work/default.yaml" || fail "helm template (default)"
"$helm_bin" template kb charts/kubabase --kube-version "$KUBE_VERSION" -f tests/install/values-all.yaml >"$work/all.yaml" ||
  fail "helm template (values-all.yaml)"
# Each source must yield flags: a Deployment that moved its flags (say to `command:`) or a parse
# that failed would otherwise check nothing and pass.
checked=0
for source in manifests/deployment.yaml "$work/default.yaml" "$work/all.yaml"; do
  python3 - "$source" >"$work/flags" <<'PY' || fail "could not read the operator's args from $(basename "$source")"
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "Deployment":
        for c in doc["spec"]["template"]["spec"]["containers"]:
            for a in c.get("args", []):
                if a.startswith("--"):
                    print(a.split("=", 1)[0])
PY
  found=0
  while read -r flag; do
    found=$((found + 1))
    grep -Fxq -- "$flag" <<<"$known" || fail "$(basename "$source") passes $flag, which kubabase --help does not list"
  done <"$work/flags"
  ((found > 0)) || fail "$(basename "$source"): no --flag in any Deployment's container args, so nothing was checked"
  checked=$((checked + found))
done
pass "all $checked operator flags in manifests/ and the chart are known to kubabase --help"
