#!/usr/bin/env bash
# Builds nabla and runs its command-line tool. With no arguments: the main job, training LeNet-5
# on Fashion-MNIST for one epoch and printing its test accuracy (metrics, plots and checkpoints
# go to runs/lenet5-<timestamp>/). With arguments: `nabla` with those arguments, e.g.
# scripts/run.sh demo xor
# Does all set-up on a fresh Debian 12 machine, and only what the tool needs: the missing packages
# of NABLA_RUN_PACKAGES and a Release build of the `nabla` target in build/ (scripts/test.sh
# installs and builds the rest).
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

nabla_install_packages "${NABLA_RUN_PACKAGES[@]}"
nabla_build_cli
nabla=$NABLA_BUILD_DIR/nabla
if (($# > 0)); then
  exec "$nabla" "$@"
fi
cd "$NABLA_ROOT"
exec "$nabla" train --model lenet5 --dataset fashion-mnist --epochs 1
