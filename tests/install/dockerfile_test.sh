#!/usr/bin/env bash
# The Dockerfile cannot be built here (no container engine), so this checks what can be checked
# without one:
#   1. the build stage is Debian 12 and runs exactly CI's scripts: scripts/install-deps.sh, then
#      scripts/build.sh with the build type scripts/test.sh uses, and copies the binary from the
#      path build.sh reports;
#   2. the runtime stage is debian:12-slim, runs as a numeric non-root USER, and its ENTRYPOINT is
#      the operator; every FROM names its base by tag AND digest (debian:12@sha256:<64 hex>), so
#      a moved tag cannot change what the image is built from;
#   3. every runtime package it installs exists in Debian 12 (apt-cache), and every shared library
#      the operator binary built here links (ldd) belongs to one of them, to one of their
#      dependencies, or to the base image's essentials; so the image starts without a
#      "cannot open shared object file".
# Usage: dockerfile_test.sh BUILD_DIR OPERATOR_BINARY
source "$(dirname "$0")/lib.sh"
build_dir="${1:?build dir}"; binary="${2:?operator binary}"
dockerfile="$INSTALL_ROOT/Dockerfile"
[[ -f "$dockerfile" ]] || fail "no Dockerfile"

stage_of() { # prints the lines of stage $1 (FROM ... AS $1 up to the next FROM)
  awk -v s="$1" 'toupper($1)=="FROM" {on = (tolower($NF)==s)} on' "$dockerfile"
}
build_stage="$(stage_of build)"; runtime_stage="$(stage_of runtime)"
[[ -n "$build_stage" && -n "$runtime_stage" ]] || fail "Dockerfile lacks a 'build' or 'runtime' stage"

# Every base is pinned: repo:tag@sha256:<digest>, the tag kept for people.
while read -r from_line; do
  [[ "$from_line" =~ ^FROM\ [a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}\ AS\ [a-z]+$ ]] ||
    fail "'$from_line' is not pinned as repo:tag@sha256:<digest> AS <stage>"
done < <(grep -iE '^FROM ' "$dockerfile")
pass "every FROM is pinned by digest next to its tag"

digest_re='@sha256:[0-9a-f]{64}'
grep -Eq "^FROM debian:12${digest_re} AS build$" <<<"$build_stage" || fail "build stage is not FROM debian:12@sha256:..."
grep -Eq '^RUN .*\./scripts/install-deps\.sh' <<<"$build_stage" || fail "build stage does not run scripts/install-deps.sh"
grep -Eq '^RUN .*\./scripts/build\.sh /build' <<<"$build_stage" || fail "build stage does not run scripts/build.sh /build"
! grep -Eq '^RUN .*(cmake|ninja|g\+\+|apt-get install)' <<<"$build_stage" ||
  fail "build stage builds or installs by hand instead of through CI's scripts"
grep -q 'echo "$build/controller/kubabase"' "$INSTALL_ROOT/scripts/build.sh" ||
  fail "scripts/build.sh no longer reports <build>/controller/kubabase"
[[ "$binary" == "$build_dir/controller/kubabase" ]] ||
  fail "the operator is built at $binary, not at <build>/controller/kubabase where the Dockerfile copies it from"
grep -Eq '^COPY --from=build /build/controller/kubabase /usr/local/bin/kubabase$' <<<"$runtime_stage" ||
  fail "runtime stage does not copy /build/controller/kubabase to /usr/local/bin/kubabase"
# ... and with the build type CI's main tree is built with (scripts/test.sh), optimiser included.
default_type="$(sed -n 's/^type="${KUBABASE_BUILD_TYPE:-\([A-Za-z]*\)}"$/\1/p' "$INSTALL_ROOT/scripts/build.sh")"
[[ -n "$default_type" ]] || fail "cannot read scripts/build.sh's default KUBABASE_BUILD_TYPE"
image_type="$(grep -oE 'KUBABASE_BUILD_TYPE=[A-Za-z]+' <<<"$build_stage" | cut -d= -f2 | tail -1 || true)"
image_type="${image_type:-$default_type}"
ci_type="$(sed -n 's/^KUBABASE_BUILD_TYPE=\([A-Za-z]*\) .*scripts\/build\.sh "$build"$/\1/p' "$INSTALL_ROOT/scripts/test.sh")"
[[ -n "$ci_type" ]] || fail "cannot read the build type scripts/test.sh builds its main tree with"
[[ "$image_type" == "$ci_type" ]] || fail "the image is built $image_type, CI's main build $ci_type"
pass "build stage: debian:12, scripts/install-deps.sh then scripts/build.sh ($image_type), as CI runs them"

grep -Eq "^FROM debian:12-slim${digest_re} AS runtime$" <<<"$runtime_stage" || fail "runtime stage is not FROM debian:12-slim@sha256:..."
user="$(awk 'toupper($1)=="USER" {print $2}' <<<"$runtime_stage" | tail -1)"
[[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "runtime USER '$user' is not a numeric non-root uid"
[[ "${user%%:*}" == 65532 ]] || fail "runtime USER is $user; manifests and chart run as 65532"
grep -Fxq 'ENTRYPOINT ["/usr/local/bin/kubabase"]' <<<"$runtime_stage" || fail "ENTRYPOINT is not the operator"
pass "runtime stage: debian:12-slim, USER $user, ENTRYPOINT the operator"

# The runtime packages: the words of the apt-get install line(s) that look like package names.
mapfile -t runtime_pkgs < <(sed -n '/apt-get install/,/rm -rf/p' <<<"$runtime_stage" |
  tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|update)$' | sort -u)
((${#runtime_pkgs[@]} > 0)) || fail "runtime stage installs no packages"
# One apt-cache call (each costs seconds); on failure, find which package is unknown.
if ! apt-cache show "${runtime_pkgs[@]}" >/dev/null 2>&1; then
  for p in "${runtime_pkgs[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || fail "runtime package $p does not exist in this Debian's archive"
  done
fi
# What apt brings along with them, plus what every debian:12-slim has (Essential/Required).
# Computed only when a library's package is not listed itself (apt-cache --recurse is slow).
provided=("${runtime_pkgs[@]}" libc6 libgcc-s1 libstdc++6 zlib1g)
provided_expanded=0
expand_provided() {
  ((provided_expanded)) && return 0
  provided_expanded=1
  mapfile -t -O "${#provided[@]}" provided < <(apt-cache depends --recurse --no-recommends \
    --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "${runtime_pkgs[@]}" \
    2>/dev/null | sed -n 's/^ *\(Pre\)\?Depends: //p' | tr -d '<>' | sort -u)
}
is_provided() { printf '%s\n' "${provided[@]}" | grep -Fxq "$1"; }

[[ -x "$binary" ]] || fail "operator binary $binary not built"
owner_of() {
  local lib="$1" real candidate
  real="$(readlink -f "$lib")"
  for candidate in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
    dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  return 1
}
# ldd's own status is checked and the list must hold libcpprest (the operator's HTTP client, linked
# from its Debian package): a failing ldd or a changed output format would otherwise leave the
# loop below nothing to check, and it would pass.
ldd_out="$(ldd "$binary" 2>&1)" || fail "ldd $binary failed: $ldd_out"
mapfile -t libs < <(awk '/=> \// {print $3}' <<<"$ldd_out")
((${#libs[@]} > 0)) || fail "ldd lists no shared library of $binary: $ldd_out"
[[ " ${libs[*]} " == */libcpprest.so* ]] ||
  fail "ldd's list of $binary lacks libcpprest, which it links; the list read is not the real one: $ldd_out"
missing=()
count=0
for lib in "${libs[@]}"; do
  [[ -n "$lib" ]] || continue
  count=$((count + 1))
  pkg="$(owner_of "$lib")" || fail "no Debian package owns $lib (linked by $binary)"
  is_provided "$pkg" || { expand_provided; is_provided "$pkg"; } || missing+=("$pkg ($lib)")
done
((${#missing[@]} == 0)) || fail "the runtime stage lacks packages for: ${missing[*]}"
pass "all $count shared libraries of $(basename "$binary") come from the runtime stage's ${#runtime_pkgs[@]} packages or their dependencies"
