#!/usr/bin/env bash
# Set up a virtual environment and run the offline demo on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[embedded,local]"
exec .venv/bin/python docs/examples/quickstart.py
