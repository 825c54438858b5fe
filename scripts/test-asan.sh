#!/usr/bin/env bash
# Builds nabla and its whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer (the
# "asan" preset in CMakePresets.json: clang++, the library at -O1, the tests, app and CLI at -O0,
# line tables only, in build-asan/) and runs every ctest test
# under them. Any report fails the run: ASan errors and leaks end the process, and UBSan is
# built with -fno-sanitize-recover so its first report does too. Extra arguments go to ctest,
# e.g. scripts/test-asan.sh -R Idx
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

nabla_install_packages
cd "$NABLA_ROOT"
# The test preset sets the same; exported here too for anything run by hand from this shell.
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$NABLA_ROOT/scripts/lsan-suppressions.txt:print_suppressions=0
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan "$@"
