#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running Reliant: installs the packages the
# build needs (only those missing), configures and builds with CMake + Ninja (ccache when
# present), then runs the main job — for now the simulator's demo scenario.
#   tools/setup.sh               install, build, run the demo
#   tools/setup.sh --build-only  install and build
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl python3-yaml
  libboost-dev libboost-system-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libnats-dev nats-server libpq-dev libsqlite3-dev postgresql
  librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev
  libexpected-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev libssl-dev libre2-dev
  libjemalloc-dev  # the shipping binary's allocator (src/app/CMakeLists.txt)
  clang libclang-rt-14-dev clang-format  # clang-format: the lint keeps the layout (tools/texture.py)
  chromium fonts-dejavu-core  # the web app's end-to-end tests (tests/e2e) drive Debian's chromium
  iproute2 python3  # the chaos harness (tools/chaos): network namespaces, veth, its checkers
  podman  # the server image: deploy/image/build.sh and its test image.build (vfs: no fuse-overlayfs)
  strace valgrind  # profiles: round trips a chat (tools/chat_profile.sh), instructions a call (callgrind)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Interop tests use clients nobody here wrote (grpc-js, the nats npm client): Node.js and npm
# (the machine's own when present, Debian's otherwise) and the locked packages.
if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ ! -d tests/interop/node_modules/@grpc/grpc-js ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
fi
# MCP's conformance suite drives the daemon's MCP client (conformance.mcp_client).
if [ ! -d tests/mcp-conformance/node_modules/@modelcontextprotocol/conformance ] || [ tests/mcp-conformance/package-lock.json -nt tests/mcp-conformance/node_modules ]; then
  npm ci --prefix tests/mcp-conformance --no-audit --no-fund --loglevel=error
fi
# cel-spec's conformance tests for the CEL evaluator come as an npm package too (conformance.cel).
if [ ! -d tests/cel-conformance/node_modules/@bufbuild/cel-spec ] || [ tests/cel-conformance/package-lock.json -nt tests/cel-conformance/node_modules ]; then
  npm ci --prefix tests/cel-conformance --no-audit --no-fund --loglevel=error
fi
# The managed daemons' Kubernetes objects and the manifests in deploy/kubernetes are checked
# against the API's schemas by the kubernetes-models package, with the yaml package to read the
# manifests (conformance.kubernetes_objects, conformance.kubernetes_manifests).
if [ ! -d tests/kubernetes-models/node_modules/kubernetes-models ] || [ tests/kubernetes-models/package-lock.json -nt tests/kubernetes-models/node_modules ]; then
  npm ci --prefix tests/kubernetes-models --no-audit --no-fund --loglevel=error
fi
# The CEL benchmark's peer, @bufbuild/cel, locked (tools/bench_cel.sh; bench.bench_cel_smoke).
if [ ! -d tests/bench/cel_peer/node_modules/@bufbuild/cel ] || [ tests/bench/cel_peer/package-lock.json -nt tests/bench/cel_peer/node_modules ]; then
  npm ci --prefix tests/bench/cel_peer --no-audit --no-fund --loglevel=error
fi
# The web app's end-to-end tests (e2e.web) drive chromium with playwright-core, locked.
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules ]; then
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi

# The web app (web/): its locked packages, type-checked and built into web/dist, which the
# monolith and the api server serve at /.
if [ ! -d web/node_modules/preact ] || [ web/package-lock.json -nt web/node_modules ]; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error
fi
npm run build --prefix web --silent >/dev/null

jobs=$(nproc)
# ccache keys on paths relative to the checkout and ignores the build directory's own path, so a
# fresh clone elsewhere (CI) reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
# The shipping tree: the binaries at -O2, and every suite that runs them or needs them optimised
# (the simulator's sweeps, the stores, the integration tests, the benchmarks). The unit and
# property suites are compiled once, in the ASan tree that tools/test.sh runs them in.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRELIANT_LIBRARY_SUITES=OFF >/dev/null
cmake --build build -j"$jobs"

if [ "${1:-}" != "--build-only" ]; then
  echo
  echo "setup: built. Running the demo: the monolith answers a chat offline (scripted model) with"
  echo "tools run by its embedded daemon. The simulator: build/sim/reliant-sim run scenarios/<name>.yaml"
  echo
  tools/demo.sh
fi
