#!/usr/bin/env bash
# Builds kstatus-check into $KUBABASE_CACHE/health (default ~/.cache/kubabase/health) and prints
# its path. Cached as scripts/cluster-build.sh caches the control plane: rebuilt only when the
# stamp (hash of go.mod, go.sum, *.go, this script, the Go version) changed or the binary is
# missing, with the default GOMODCACHE/GOCACHE, so a warm call takes well under a second.
# Modules come from the Go module proxy, pinned by go.sum. Concurrent callers wait on a lock.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${KUBABASE_CACHE:-$HOME/.cache/kubabase}/health"
bin="$cache/kstatus-check"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

command -v go >/dev/null || { echo "health/build.sh: go is not installed" >&2; exit 1; }
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
want="$(cd "$dir" && cat go.mod go.sum ./*.go build.sh | { cat; go env GOVERSION; } | sha256sum | cut -c1-32)"
if [[ -x "$bin" && "$(cat "$cache/stamp" 2>/dev/null)" == "$want" ]]; then
  echo "$bin"
  exit 0
fi
t0=$SECONDS
rm -f "$cache/stamp"
(cd "$dir" && go build -o "$bin" .) >&2 || { echo "health/build.sh: go build failed" >&2; exit 1; }
echo "$want" >"$cache/stamp"
echo "health/build.sh: built $bin in $((SECONDS - t0)) s" >&2
echo "$bin"
