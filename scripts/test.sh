#!/usr/bin/env bash
# Set up a virtual environment with the dev extras, check types and style, run the test suite.
# The storage tests start their own embedded PostgreSQL (or use $DATABASE_URL); the Mastra interop
# tests run the real npm packages pinned in tests/interop (installed here with `npm ci`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The Supabase tests run a real PgBouncer (transaction mode); install it when missing and we may.
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq pgbouncer >/dev/null || { apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null; }
fi
if command -v npm >/dev/null 2>&1; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "npm not found: the Mastra interop tests will be skipped (or fail under CI=true)" >&2
fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
