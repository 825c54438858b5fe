# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/run.sh: installs the Debian 12 packages nabla needs
# (only those missing, so a prepared machine never touches the network) and builds Release
# with Ninja in build/ (or $NABLA_BUILD_DIR).

NABLA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NABLA_BUILD_DIR=${NABLA_BUILD_DIR:-$NABLA_ROOT/build}

# What the `nabla` tool needs (scripts/run.sh): compiler and build tools, cairo for PNG plots,
# CLI11 for the command line, zlib for .gz data files, libpng and libjpeg-turbo for image
# folders, nlohmann's JSON for checkpoints and model files (docs/dependencies.md says why), and
# Fashion-MNIST (Debian installs it in /usr/share/datasets/fashion-mnist) for training; protobuf
# and ONNX's schema (onnx.proto in libonnx-dev) for `nabla export --onnx` and .onnx models in
# (docs/onnx.md).
NABLA_RUN_PACKAGES=(build-essential cmake ninja-build pkg-config libcairo2-dev libcli11-dev
                    zlib1g-dev libpng-dev libjpeg62-turbo-dev nlohmann-json3-dev
                    dataset-fashion-mnist libprotobuf-dev protobuf-compiler libonnx-dev)
# What the rest needs (scripts/test.sh): GoogleTest/GoogleMock and Google Benchmark for tests and
# bench/, OpenBLAS as gemm_bench's baseline; clang and its sanitizer and libFuzzer runtimes for
# scripts/test-asan.sh and scripts/fuzz.sh; OpenMPI for data-parallel training (docs/distributed.md); Chromium for the test
# that opens a run's HTML report in a real browser; Graphviz for `nabla demo scalar`'s PNG;
# node and npm to run ONNX Runtime (onnxruntime-node, nabla_install_ort) and python3-onnx's
# checker on exported models (tests/onnx).
NABLA_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev clang
                     libclang-rt-14-dev libopenmpi-dev openmpi-bin chromium graphviz
                     nodejs npm python3-onnx)
NABLA_APT_PACKAGES=("${NABLA_RUN_PACKAGES[@]}" "${NABLA_TEST_PACKAGES[@]}")

# Installs the given packages that are missing (default: all of NABLA_APT_PACKAGES).
nabla_install_packages() {
  local missing=() pkg
  local wanted=("$@")
  if ((${#wanted[@]} == 0)); then
    wanted=("${NABLA_APT_PACKAGES[@]}")
  fi
  for pkg in "${wanted[@]}"; do
    # Node.js from elsewhere (NodeSource's nodejs bundles npm and conflicts with Debian's npm
    # package) already gives what the packages are for: skip them when their command runs.
    case $pkg in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    # dpkg -s alone also succeeds for a removed package whose config files remain.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "nabla: installing missing packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || {
      echo "nabla: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
    "${missing[@]}"
}

# ONNX Runtime's CPU runtime, the reference the ONNX tests and bench/compare check nabla against:
# the npm package onnxruntime-node in $NABLA_BUILD_DIR/ort (--ignore-scripts: its install script
# only fetches GPU extras). Without node, npm or the network the tests say so and skip.
nabla_install_ort() {
  local dir="$NABLA_BUILD_DIR/ort"
  if [[ -d "$dir/node_modules/onnxruntime-node" ]]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "nabla: npm is missing; the ONNX Runtime tests will skip" >&2
    return 0
  fi
  mkdir -p "$dir"
  (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node) ||
    echo "nabla: npm install onnxruntime-node failed; the ONNX Runtime tests will skip" >&2
}

# Everything: the library, the tool, tests, benchmarks and examples.
nabla_build() {
  cmake -S "$NABLA_ROOT" -B "$NABLA_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DNABLA_BUILD_TESTS=ON -DNABLA_BUILD_BENCH=ON -DNABLA_BUILD_EXAMPLES=ON
  cmake --build "$NABLA_BUILD_DIR" -j2
  nabla_install_ort
}

# Only the `nabla` tool and the libraries under it. A fresh build directory is configured without
# tests, benchmarks and examples (whose packages run.sh does not install); one that test.sh
# configured keeps its settings, and only the tool is rebuilt.
nabla_build_cli() {
  local options=()
  if [[ ! -f "$NABLA_BUILD_DIR/CMakeCache.txt" ]]; then
    options=(-DNABLA_BUILD_TESTS=OFF -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF)
  fi
  cmake -S "$NABLA_ROOT" -B "$NABLA_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${options[@]}"
  cmake --build "$NABLA_BUILD_DIR" -j2 --target nabla-cli
}
