#!/usr/bin/env bash
# The core's test suite with no task plugin installed: a second virtual environment (.venv-core)
# holds torch and the astrozoo core only (no plugins/), and `pytest tests` runs there.
# Idempotent: nothing is reinstalled unless pyproject.toml or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV_CORE:-.venv-core}
PYTHON=${PYTHON:-python3}
TORCH=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp="$VENV/.astrozoo-setup"
want=$(cat pyproject.toml scripts/test-core.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "test-core: installing the core into $VENV (first time: a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q $TORCH
  "$VENV/bin/python" -m pip install -q -e ".[torch,test,morphology,docs,cluster]"
  echo "$want" > "$stamp"
fi
# CI runs every test, the browser and team-tracking ones too (scripts/ci-deps.sh installs their system parts)
if [ -n "${CI:-}" ] && ! "$VENV/bin/python" -c "import selenium, psycopg2" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q selenium psycopg2-binary
fi
# no plugin may be found: not installed in this venv, and not on a PYTHONPATH
unset PYTHONPATH ASTROZOO_PLUGINS
if "$VENV/bin/python" -c "from importlib.metadata import entry_points as e; raise SystemExit(len(e(group='astrozoo')))"; then
  echo "test-core: no task plugin installed in $VENV"
else
  echo "test-core: $VENV has task plugins installed; remove it and re-run" >&2
  exit 1
fi
exec "$VENV/bin/python" -m pytest -q tests "$@"
