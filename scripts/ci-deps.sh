#!/usr/bin/env bash
# System and Python dependencies of the ecosystem tests (idempotent, cheap when already there):
#   - Debian chromium + chromium-driver, for the headless-browser test of `astrozoo ui`
#   - Debian postgresql, for the team-tracking test (an MLflow server backed by PostgreSQL)
#   - selenium and the `team` extra (psycopg2-binary) in the project's virtual environment
# CI calls it before `make test`; a developer may run it once to enable those tests locally.
# System packages need root (apt-get); without root they are reported, not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

have_postgres() { ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; }
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
have_postgres || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ci-deps: installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
  else
    echo "ci-deps: missing ${missing[*]}; install them with apt-get as root (tests that need them are skipped outside CI)" >&2
  fi
else
  echo "ci-deps: chromium, chromedriver and postgresql are installed"
fi

# the venv is made by scripts/setup.sh (idempotent; `make test` calls it again at no cost)
bash scripts/setup.sh
if ! "$VENV/bin/python" -c "import selenium, psycopg2" 2>/dev/null; then
  echo "ci-deps: installing selenium and the 'team' extra (psycopg2-binary) into $VENV"
  "$VENV/bin/python" -m pip install -q selenium psycopg2-binary
fi
