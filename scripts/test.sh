#!/usr/bin/env bash
# Set up a virtual environment with the dev extras, check types and style, run the test suite.
# The storage tests start their own embedded PostgreSQL (or use $DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
