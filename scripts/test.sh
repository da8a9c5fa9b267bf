#!/usr/bin/env bash
# The whole test suite, as the README and .ci/run run it:
#   1. Debian packages (scripts/install-deps.sh) and the local control plane's binaries
#      (scripts/cluster-build.sh; cached, seconds when warm);
#   2. the Release build with warnings as errors, and the unit tests again under ASan+UBSan (Debug);
#   3. ctest over everything: unit, database (a throwaway PostgreSQL 15), integration and e2e
#      (the local control plane, started once by a ctest fixture and stopped at the end), install.
# Usage: scripts/test.sh [extra ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

./scripts/install-deps.sh
./scripts/cluster-build.sh

jobs=$(nproc)
build=${KUBABASE_BUILD_DIR:-$root/build}
asan=${KUBABASE_ASAN_BUILD_DIR:-$root/build-asan}

echo "== build ($build, Release)"
# scripts/build.sh is also the Dockerfile's build step, so CI exercises the image's build. Release
# (-O3), as the image and packagers build it: its optimiser warns where others do not (GCC 12's
# -Wrestrict once stopped a packager's build), and the suite runs against the binary we ship.
KUBABASE_BUILD_TYPE=Release KUBABASE_JOBS=$jobs ./scripts/build.sh "$build"

if [[ ${KUBABASE_SKIP_SANITIZERS:-0} != 1 ]]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer ($asan)"
  KUBABASE_BUILD_TYPE=Debug KUBABASE_JOBS=$jobs ./scripts/build.sh "$asan" -DKUBABASE_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$asan" -L unit --output-on-failure -j "$jobs"
fi

echo "== ctest: unit, database, integration, e2e, install"
ctest --test-dir "$build" --output-on-failure "$@"
