#!/usr/bin/env bash
# Copies the Project CRD from its single source of truth, crds/project.yaml, to the two install
# paths that need a file of their own:
#   manifests/crds/project.yaml         (kustomize refuses files outside the kustomization root)
#   charts/kubabase/crds/project.yaml   (Helm installs CRDs from the chart's crds/ directory)
# Run it after every change to crds/project.yaml and commit the copies.
#
# Usage: scripts/sync-crd.sh           copy
#        scripts/sync-crd.sh --check   change nothing; exit 1 naming each copy that differs
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_crd="$root/crds/project.yaml"
copies=("$root/manifests/crds/project.yaml" "$root/charts/kubabase/crds/project.yaml")

[[ -f "$source_crd" ]] || { echo "sync-crd: $source_crd is missing" >&2; exit 1; }

if [[ "${1:-}" == "--check" ]]; then
  stale=0
  for copy in "${copies[@]}"; do
    if ! cmp -s "$source_crd" "$copy"; then
      echo "sync-crd: ${copy#"$root"/} differs from crds/project.yaml; run scripts/sync-crd.sh" >&2
      stale=1
    fi
  done
  ((stale == 0)) && echo "sync-crd: every copy is identical to crds/project.yaml"
  exit "$stale"
fi

for copy in "${copies[@]}"; do
  mkdir -p "$(dirname "$copy")"
  cp "$source_crd" "$copy"
  echo "sync-crd: wrote ${copy#"$root"/}"
done
