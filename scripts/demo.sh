#!/usr/bin/env bash
# Set up a virtual environment and run the main job: `mastra-memory demo`, offline, on the embedded
# PostgreSQL (no server, no API key). With OPENAI_API_KEY or OPENAI_BASE_URL set it also runs a
# LangChain agent on the same memory. Extra arguments go to the demo (e.g. -q "your question").
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[demo]"
exec .venv/bin/mastra-memory demo "$@"
