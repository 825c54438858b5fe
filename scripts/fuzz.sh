#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, ASan + UBSan, the "fuzz" preset, in build-fuzz/)
# and runs each for SECONDS (default 60, the documented long run; CI runs a few seconds each).
# Fails if any target finds a crash, a sanitizer report, a leak, a timeout or an out-of-memory;
# the input that did it is left in build-fuzz/artifacts/<target>/ (reproduce with
# build-fuzz/fuzz/fuzz_<target> <file>). New inputs the fuzzer finds go to
# build-fuzz/corpus/<target>/, never into the seed corpus fuzz/corpus/ that is checked in.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 5, scripts/fuzz.sh 600 csv
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(idx idx_gz cifar csv safetensors checkpoint json_model image)
fi

nabla_install_packages
cd "$NABLA_ROOT"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}"

build=$NABLA_ROOT/build-fuzz
failed=()
for t in "${targets[@]}"; do
  work=$build/corpus/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$work" "$artifacts"
  dict=()
  case $t in json_model | safetensors | checkpoint) dict=(-dict="$NABLA_ROOT/fuzz/json.dict") ;; esac
  echo "== fuzz_$t: ${seconds}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: over 2 GiB is an OOM.
  # -max_len 8192 fits the largest seed (two CIFAR records) with room to grow.
  if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
      "$work" "$NABLA_ROOT/fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1; then
    failed+=("$t")
    tail -n 60 "$build/fuzz_$t.log"
  fi
  grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$build/fuzz_$t.log" | tail -n 1 || true
done

if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/artifacts/, logs in $build/fuzz_*.log)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, nothing found"
