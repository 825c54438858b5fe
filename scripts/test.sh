#!/usr/bin/env bash
# Builds nabla and runs its whole test suite (GoogleTest cases, gradient checks, the install +
# find_package check). Does all set-up on a fresh Debian 12 machine: installs missing packages,
# configures Release with Ninja in build/, builds with 2 jobs. Extra arguments go to ctest,
# e.g. scripts/test.sh -R gradcheck
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

nabla_install_packages
nabla_build
ctest --test-dir "$NABLA_BUILD_DIR" --output-on-failure -j2 "$@"
