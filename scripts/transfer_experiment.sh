#!/usr/bin/env bash
# The transfer-learning experiment of docs/training.md ("Transfer learning"): LeNet-5 pretrained
# on Fashion-MNIST classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat), then trained on a
# small subset of classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) five ways -- from
# scratch; from the pretrained weights with every layer trained; with the conv layers frozen;
# with all but the head frozen; the same with a 10x learning rate for the head -- each with the
# same optimizer, learning rate and number of steps, for several seeds, and tested on all 5,000
# test images of classes 5-9. Prints a Markdown table of mean test accuracies (min-max).
#
#   scripts/transfer_experiment.sh [OUT]      (OUT defaults to runs/transfer)
#
# Environment: NABLA (the nabla binary; default: build it as scripts/run.sh does), SUBSETS
# (training-subset sizes, default "200 1000"), SEEDS (fine-tuning seeds, "1 2 3"),
# PRETRAIN_EPOCHS (3), EPOCHS (fine-tuning, 10), THREADS (2). Deterministic: the same settings
# give the same table, whatever THREADS.
set -euo pipefail
out=${1:-runs/transfer}
subsets=${SUBSETS:-200 1000}
seeds=${SEEDS:-1 2 3}
pretrain_epochs=${PRETRAIN_EPOCHS:-3}
epochs=${EPOCHS:-10}
threads=${THREADS:-2}
if [[ -z "${NABLA:-}" ]]; then
  # shellcheck source=scripts/setup.sh
  source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
  nabla_install_packages
  nabla_build
  NABLA=$NABLA_BUILD_DIR/nabla
fi
if [[ -e "$out" ]]; then
  echo "transfer_experiment: $out exists; remove it or pass another directory" >&2
  exit 1
fi
mkdir -p "$out"

# `nabla train` ends with "test accuracy 91.23% (5000 images, ...)".
accuracy() { sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' "$1"; }

common=(--model lenet5 --dataset fashion-mnist --batch-size 64 --optimizer adam --lr 1e-3
  --threads "$threads")
"$NABLA" train "${common[@]}" --seed 1 --classes 0-4 --epochs "$pretrain_epochs" \
  --out "$out/pretrain" | tee "$out/pretrain.log"

variants=(scratch all frozen-conv head-only head-only-x10)
declare -A flags=(
  [scratch]=""
  [all]="--init-from $out/pretrain"
  [frozen-conv]="--init-from $out/pretrain --freeze features"
  [head-only]="--init-from $out/pretrain --freeze 0-9"
  [head-only-x10]="--init-from $out/pretrain --freeze 0-9 --lr-mult head=10"
)
declare -A label=(
  [scratch]="from scratch"
  [all]="pretrained, every layer trained"
  [frozen-conv]="pretrained, conv layers frozen (\`--freeze features\`)"
  [head-only]="pretrained, all but the head frozen (\`--freeze 0-9\`)"
  [head-only-x10]="the same, head learning rate x10 (\`--lr-mult head=10\`)"
)
declare -A result
for n in $subsets; do
  for v in "${variants[@]}"; do
    for seed in $seeds; do
      run=$v-$n-seed$seed
      # shellcheck disable=SC2086  # flags[] holds several words
      "$NABLA" train "${common[@]}" --seed "$seed" --classes 5-9 --train-subset "$n" \
        --epochs "$epochs" ${flags[$v]} --out "$out/$run" >"$out/$run.log"
      result[$v-$n]+="$(accuracy "$out/$run.log") "
      echo "$run: test accuracy $(accuracy "$out/$run.log")%"
    done
  done
done

# "mean% (min-max)" of the accuracies given.
summary() { echo "$@" | tr ' ' '\n' | awk 'NF {s += $1; n++; if (n == 1 || $1 < lo) lo = $1;
  if (n == 1 || $1 > hi) hi = $1} END {printf "%.2f%% (%.2f-%.2f)", s / n, lo, hi}'; }
{
  echo
  echo "pretrained on classes 0-4 (seed 1): test accuracy $(accuracy "$out/pretrain.log")% on classes 0-4"
  echo
  printf '| classes 5-9: training images (minus 10%% validation) |'
  for n in $subsets; do printf ' %s |' "$n"; done
  printf '\n| --- |'
  for _ in $subsets; do printf ' ---: |'; done
  echo
  for v in "${variants[@]}"; do
    printf '| %s |' "${label[$v]}"
    for n in $subsets; do printf ' %s |' "$(summary "${result[$v-$n]}")"; done
    echo
  done
} | tee "$out/results.md"
