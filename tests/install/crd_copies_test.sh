#!/usr/bin/env bash
# The CRD has one source of truth, crds/project.yaml; the kustomization and the Helm chart carry
# byte-identical copies (scripts/sync-crd.sh writes them). This fails when someone edits the CRD
# and forgets to sync, naming the stale copy.
source "$(dirname "$0")/lib.sh"
"$INSTALL_ROOT/scripts/sync-crd.sh" --check || fail "a CRD copy is stale"
grep -qx '  - crds/project.yaml' "$INSTALL_ROOT/manifests/kustomization.yaml" ||
  fail "manifests/kustomization.yaml does not install crds/project.yaml"
pass "manifests/crds/project.yaml and charts/kubabase/crds/project.yaml are identical to crds/project.yaml"
