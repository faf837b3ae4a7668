#!/usr/bin/env bash
# Set up .venv and run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/bootstrap.sh test
exec .venv/bin/python -m pytest "$@"
