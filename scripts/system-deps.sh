#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu, as root), only those missing.
set -euo pipefail

packages=(nodejs npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node and npm may come from elsewhere (e.g. a preinstalled toolchain): what counts is the command.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for pkg in "${missing[@]}"; do [ -n "$pkg" ] && filtered+=("$pkg"); done

if [ "${#filtered[@]}" -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "Missing system packages: ${filtered[*]} (install them as root: apt-get install ${filtered[*]})" >&2
    exit 1
  fi
  echo "Installing system packages: ${filtered[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${filtered[@]}"
fi
