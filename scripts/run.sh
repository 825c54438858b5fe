#!/usr/bin/env bash
# Builds nabla and runs its command-line tool. With no arguments: the main job, training the XOR
# network (`nabla demo xor`) and checking every op's gradient (`nabla gradcheck`). With
# arguments: `nabla` with those arguments, e.g. scripts/run.sh demo scalar
# Does all set-up on a fresh Debian 12 machine (missing packages, Release build in build/).
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

nabla_install_packages
nabla_build
nabla=$NABLA_BUILD_DIR/nabla
if (($# > 0)); then
  exec "$nabla" "$@"
fi
"$nabla" demo xor --out "$NABLA_ROOT/out"  # PNGs of the decision boundaries and losses
"$nabla" gradcheck
