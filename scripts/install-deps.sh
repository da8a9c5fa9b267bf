#!/usr/bin/env bash
# Installs every Debian 12 package kubabase needs to build, test and run its local control plane.
# Idempotent: packages already present are left alone; apt runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  libcpprest-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libssl-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev googletest libgtest-dev libgmock-dev
  postgresql-15 postgresql-client-15
  lua5.4 python3 python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# KUBABASE_SKIP_GO=1: building the operator alone (the Dockerfile's build stage) needs no Go.
if [[ ${KUBABASE_SKIP_GO:-0} != 1 ]] && ! command -v go >/dev/null 2>&1; then
  echo "install-deps: Go is required for the local control plane (tests/cluster); install Go >= 1.26" >&2
  exit 1
fi
