#!/usr/bin/env bash
# Table 2 of the halo-mass paper on the embedded mock, quick profile: every model, then the
# comparison table (docs/results/halo-mass-quick.md), the figures (docs/results/halo-mass-quick/<m>/).
# Usage: bash scripts/reproduce.sh [extra `astrozoo run` options, e.g. --seeds 3 or --profile paper]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
for model in simple morphological overdensity combined xgboost oracle gnn cnn cnn-gnn; do
  echo "=== $model"
  "$BIN/astrozoo" run halo-mass --model "$model" "$@"
done
mkdir -p docs/results
"$BIN/astrozoo" compare halo-mass --output docs/results/halo-mass-quick.md --figures docs/results/halo-mass-quick
cat docs/results/halo-mass-quick.md
