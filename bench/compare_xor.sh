#!/usr/bin/env bash
# XOR training (5000 full-batch Adam steps of the seed's 2-8-1 network), nabla against PyTorch,
# measured in the same run: A B A B ... for --reps rounds, then medians and the ratio.
#
#   bench/compare_xor.sh [--reps 5] [--build build]
#
# Needs a Release build with benchmarks (scripts/test.sh makes one) and Debian's python3-torch,
# which this script installs when it is missing. It is run on purpose, never by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=5
build=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--build DIR]" >&2; exit 2 ;;
  esac
done
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch
fi
cmake --build "$build" --target xor_bench >/dev/null
nabla_times=() torch_times=()
for ((i = 1; i <= reps; i++)); do
  # One benchmark iteration is one whole 5000-step training run.
  t=$("$build/bench/xor_bench" --benchmark_min_time=0 --benchmark_format=json 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(b["real_time"]/1e3)')
  nabla_times+=("$t")
  t=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/xor_torch.py | awk '{print $2}')
  torch_times+=("$t")
  echo "round $i: nabla ${nabla_times[-1]} s, pytorch ${torch_times[-1]} s"
done
/usr/bin/python3 - "${nabla_times[*]}" "${torch_times[*]}" <<'PY'
import statistics, sys
n = [float(v) for v in sys.argv[1].split()]
t = [float(v) for v in sys.argv[2].split()]
mn, mt = statistics.median(n), statistics.median(t)
print(f"XOR 5000 Adam steps: nabla {mn*1e3:.1f} ms ({mn/5000*1e6:.2f} us/step), "
      f"PyTorch {mt*1e3:.1f} ms ({mt/5000*1e6:.1f} us/step), nabla is {mt/mn:.1f}x faster")
PY
