# syntax=docker/dockerfile:1
# The kubabase operator image.
#
# No container engine runs on the machines this project is developed and tested on, so this file
# is never built there. Its build stage is therefore nothing but the two scripts CI runs on every
# change (.ci/run -> scripts/test.sh): scripts/install-deps.sh installs the Debian 12 packages and
# scripts/build.sh configures and builds with CMake and Ninja (Release, warnings as errors: the
# build type scripts/test.sh builds and tests). What the image does is thus what CI exercises. tests/install/dockerfile_test.sh checks that the runtime stage installs a Debian
# package for every shared library the built binary links.
#
# Both bases are pinned by the digest of their multi-architecture index next to the tag (the
# debian:12 and debian:12-slim of 2026-10-05, bookworm-20261005); bump tag and digest together.
#
#   docker build -t kubabase:dev .
#   docker run --rm kubabase:dev --help

# ---- build: the very scripts CI runs ---------------------------------------------------------
FROM debian:12@sha256:2c037a04925515fdd6ea85ea14a682d0e79931f5e9f5d07b6dbfc6ba12f9e858 AS build
WORKDIR /src
COPY . .
# KUBABASE_SKIP_GO: the Go toolchain is only for the local test control plane, not the operator.
RUN KUBABASE_SKIP_GO=1 ./scripts/install-deps.sh \
 && rm -rf /var/lib/apt/lists/*
RUN KUBABASE_TARGETS=kubabase ./scripts/build.sh /build \
 && strip /build/controller/kubabase

# ---- runtime: Debian slim with the shared libraries the binary links, and nothing else ---------
FROM debian:12-slim@sha256:7c7b2c966bc9ee8cedfeef67e0e279108992c77681fa595db4a9d65c06ccc587 AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libcpprest2.10 \
      libspdlog1.10 \
      libfmt9 \
      libssl3 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libcivetweb1 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/controller/kubabase /usr/local/bin/kubabase
# 65532: the conventional "nonroot" uid/gid; numeric so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kubabase"]
