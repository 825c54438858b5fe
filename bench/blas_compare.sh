#!/usr/bin/env bash
# OpenBLAS against BLIS on this machine: the same cblas_sgemm timing program
# (bench/blas_sgemm_timer.c) linked once with each, run at 1 and 2 threads, in alternating
# rounds (A B A B ...) so that a slow spell of the machine hits both alike. Prints, per library,
# thread count and size, the median GFLOP/s over the rounds. docs/dependencies.md quotes it.
#
# Needs libopenblas-pthread-dev (via libopenblas-dev) and libblis-dev (Debian ships BLIS's
# CBLAS as /usr/include/x86_64-linux-gnu/blis-<threading>/cblas.h next to libblis.so).
#   usage: bench/blas_compare.sh [rounds (default 3)] [reps per size (default 5)]
set -euo pipefail

rounds=${1:-3}
reps=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
multiarch=$(gcc -print-multiarch)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openblas_lib=/usr/lib/$multiarch/openblas-pthread
openblas_inc=/usr/include/$multiarch/openblas-pthread
blis_lib=""
for variant in pthread openmp serial; do
  if [[ -e /usr/lib/$multiarch/blis-$variant/libblis.so ]]; then
    blis_variant=$variant
    blis_lib=/usr/lib/$multiarch/blis-$variant
    blis_inc=/usr/include/$multiarch/blis-$variant
    break
  fi
done
[[ -e $openblas_lib/libopenblas.so ]] || { echo "libopenblas-pthread-dev is not installed" >&2; exit 1; }
[[ -n $blis_lib ]] || { echo "libblis-dev is not installed" >&2; exit 1; }

# -rpath: each binary must load its own BLAS, not whatever the libblas.so.3 alternative points at.
gcc -O2 -std=c11 -I"$openblas_inc" "$here/blas_sgemm_timer.c" -o "$work/openblas" \
  -L"$openblas_lib" -Wl,-rpath,"$openblas_lib" -lopenblas
gcc -O2 -std=c11 -I"$blis_inc" "$here/blas_sgemm_timer.c" -o "$work/blis" \
  -L"$blis_lib" -Wl,-rpath,"$blis_lib" -lblis -lm -lpthread

run() {  # library threads -> "n gflops" lines
  local lib=$1 threads=$2
  OPENBLAS_NUM_THREADS=$threads BLIS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads \
    "$work/$lib" "$reps" | awk '{print $2, $4}'
}

results=$work/results.txt
: >"$results"
for ((round = 1; round <= rounds; ++round)); do
  for threads in 1 2; do
    for lib in openblas blis; do
      run "$lib" "$threads" | while read -r n gflops; do
        echo "$lib $threads $n $gflops" >>"$results"
      done
    done
  done
  echo "round $round of $rounds done" >&2
done

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "openblas: $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?') (pthread)"
echo "blis: $(dpkg-query -W -f='${Version}' "libblis4-$blis_variant" 2>/dev/null || echo '?') ($blis_variant)"
echo "median GFLOP/s of $rounds alternating rounds (each round: median of $reps calls)"
printf '%-9s %7s %8s %10s\n' library threads n GFLOP/s
sort -k1,1 -k2,2n -k3,3n -k4,4g "$results" | awk -v rounds="$rounds" '
  { key = $1 " " $2 " " $3; vals[key, ++cnt[key]] = $4; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
  END {
    for (i = 1; i <= k; ++i) {
      key = order[i]; c = cnt[key]
      med = (c % 2) ? vals[key, (c + 1) / 2] : (vals[key, c / 2] + vals[key, c / 2 + 1]) / 2
      split(key, f, " ")
      printf "%-9s %7s %8s %10.1f\n", f[1], f[2], f[3], med
    }
  }'
