#!/usr/bin/env bash
# XOR training (5000 full-batch Adam steps of the seed's 2-8-1 network), nabla against PyTorch,
# measured in the same run: the xor group of bench/compare, which alternates the two programs
# and prints medians and ratios at 1 thread, 2 threads and each library's best setting.
#
#   bench/compare_xor.sh [--reps 5] [--build build]
#
# Needs Debian's python3-torch, which bench/compare installs when it is missing. It is run on
# purpose, never by CI.
set -euo pipefail
exec "$(dirname "$0")/compare" --only xor "$@"
