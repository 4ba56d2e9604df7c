#!/usr/bin/env bash
# Set up a virtual environment with every extra and run the project's checks.
# Used as-is by CI (.ci/run) and quoted in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[train,track,dev,parquet,ray,pandas,bench]'
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
