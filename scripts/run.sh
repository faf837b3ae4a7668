#!/usr/bin/env bash
# Set up .venv and launch molt-desktop (without a display: the headless gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/molt-desktop "$@"
