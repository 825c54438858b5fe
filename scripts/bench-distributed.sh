#!/bin/sh
# Data-parallel scaling on one machine (docs/distributed.md, "Measured here"): images/s of one
# training epoch for 1 process × 1 thread, 1 process × 2 threads and 2 MPI ranks × 1 thread, for
# the mlp and lenet5 presets, and the all-reduce time per step of the 2-rank runs.
#   scripts/bench-distributed.sh [BUILD_DIR] [TRAIN_SUBSET]
# Run it on a quiet machine: other processes' load shows up as all-reduce time (a rank that is
# descheduled makes the other wait in MPI_Allreduce).
set -eu
build=${1:-build}
subset=${2:-12000}
nabla="$build/nabla"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common="--train-subset $subset --test-subset 500 --epochs 1 --seed 1"
mpirun="mpirun --allow-run-as-root --oversubscribe"
for model in mlp lenet5; do
  for setup in "1x1" "1x2" "2x1"; do
    case $setup in
      1x1) cmd="$nabla train --model $model $common --threads 1" ;;
      1x2) cmd="$nabla train --model $model $common --threads 2" ;;
      2x1) cmd="$mpirun -np 2 $nabla train --model $model $common --threads 1" ;;
    esac
    log="$out/$model-$setup.log"
    $cmd --out "$out/$model-$setup" >"$log" 2>&1
    ips=$(grep -o '[0-9]* img/s  \*best' "$log" | grep -o '^[0-9]*')
    comm=$(grep -o 'all-reduce over.*' "$log" || true)
    echo "$model  processes x threads = $setup  $ips img/s  $comm"
  done
done
