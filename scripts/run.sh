#!/usr/bin/env bash
# Set up .venv and launch the molt-desktop app. Without a display, say so and run the headless gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if [ "$#" -eq 0 ] && [ "$(uname -s)" = "Linux" ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running the headless gateway (Ctrl+C to stop)." >&2
  exec .venv/bin/molt-desktop gateway
fi
exec .venv/bin/molt-desktop "$@"
