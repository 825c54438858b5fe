# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/run.sh: installs the Debian 12 packages nabla needs
# (only those missing, so a prepared machine never touches the network) and builds Release
# with Ninja in build/ (or $NABLA_BUILD_DIR).

NABLA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NABLA_BUILD_DIR=${NABLA_BUILD_DIR:-$NABLA_ROOT/build}

# Compiler, build tools, BLAS for GEMM, cairo for PNG plots, CLI11 for the command line,
# GoogleTest/GoogleMock and Google Benchmark for tests and bench/, zlib for .gz data files,
# libpng and libjpeg-turbo for image folders
# (docs/dependencies.md says why), nlohmann's JSON for checkpoints and model files, and
# Fashion-MNIST (Debian installs it in /usr/share/datasets/fashion-mnist) for training and for
# the tests that read the real files; clang and its sanitizer and libFuzzer runtimes for
# scripts/test-asan.sh and scripts/fuzz.sh; OpenMPI for data-parallel training (docs/
# distributed.md) and Chromium for the test that opens a run's HTML report in a real browser.
NABLA_APT_PACKAGES=(build-essential cmake ninja-build pkg-config libopenblas-dev libcairo2-dev
                    libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
                    nlohmann-json3-dev dataset-fashion-mnist clang libclang-rt-14-dev
                    libopenmpi-dev openmpi-bin chromium)

nabla_install_packages() {
  local missing=() pkg
  for pkg in "${NABLA_APT_PACKAGES[@]}"; do
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

nabla_build() {
  cmake -S "$NABLA_ROOT" -B "$NABLA_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$NABLA_BUILD_DIR" -j2
}
