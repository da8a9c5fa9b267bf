#!/usr/bin/env bash
# Configures and builds kubabase with CMake and Ninja. The Dockerfile's build stage runs exactly
# this (after scripts/install-deps.sh), so the image is built the way CI builds.
#
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D args...]
#   BUILD_DIR            default build-release (relative paths are relative to the repository)
#   KUBABASE_BUILD_TYPE  default Release
#   KUBABASE_JOBS        ninja parallelism, default nproc
#   KUBABASE_TARGETS     space-separated ninja targets, default all
# Warnings are errors here (-DKUBABASE_WERROR=ON; CMake's own default is off, for packagers);
# pass -DKUBABASE_WERROR=OFF as an extra arg to override.
# Prints the path of the operator binary last. Exit status: non-zero when configure or build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build="${1:-build-release}"
[[ $# -gt 0 ]] && shift
[[ "$build" = /* ]] || build="$root/$build"
type="${KUBABASE_BUILD_TYPE:-Release}"
jobs="${KUBABASE_JOBS:-$(nproc)}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DKUBABASE_WERROR=ON "$@" >/dev/null
# shellcheck disable=SC2086  # KUBABASE_TARGETS is a word list on purpose
ninja -C "$build" -j "$jobs" ${KUBABASE_TARGETS:-}
echo "$build/controller/kubabase"
