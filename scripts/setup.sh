#!/usr/bin/env bash
# Idempotent setup: a virtual environment (.venv) with torch from pip, the astrozoo core and
# every in-repo plugin under plugins/ (installed the way a third party's plugin is: pip).
# Re-running is cheap: nothing is reinstalled unless a pyproject.toml or this script changed.
# On a machine with an NVIDIA GPU, pip's default Linux torch wheel is the CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip "$@"; }
stamp="$VENV/.astrozoo-setup"
want=$(cat pyproject.toml plugins/*/pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: $VENV is up to date"
  exit 0
fi
echo "setup: installing into $VENV (first time: a few minutes)"
pip install -q --upgrade pip
pip install -q $TORCH
plugins=()
for dir in plugins/*/; do [ -f "$dir/pyproject.toml" ] && plugins+=(-e "$dir"); done
pip install -q -e ".[torch,test,docs,cluster]" "${plugins[@]}"
echo "$want" > "$stamp"
echo "setup: done ($("$VENV/bin/astrozoo" --version))"
