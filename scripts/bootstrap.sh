#!/usr/bin/env bash
# Create or update .venv with molt-desktop installed (editable) and the given extras.
# Usage: scripts/bootstrap.sh [EXTRAS]   e.g. scripts/bootstrap.sh test
# Re-installs only when pyproject.toml or the extras changed, so repeated runs are fast.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-}"

if [ ! -x .venv/bin/python ]; then
  python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3 python3.13 python3.12 python3.11; do
      # A version manager's shim may exist and still fail to run: try each one for real.
      if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        python="$candidate"; break
      fi
    done
  fi
  if [ -z "$python" ]; then
    echo "molt-desktop needs Python 3.11 or newer; none was found on PATH." >&2
    exit 1
  fi
  echo "Creating .venv with $python ..." >&2
  "$python" -m venv .venv
fi

spec="."
[ -n "$extras" ] && spec=".[${extras}]"
stamp=".venv/.molt-desktop-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "Installing molt-desktop${extras:+ with [$extras]} into .venv ..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$want" >> "$stamp"
fi
