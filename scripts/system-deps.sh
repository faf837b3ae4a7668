#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian/Ubuntu, as root), only those missing.
set -euo pipefail

# The UI tests: a virtual X display with a tray host, CJK fonts, xdotool/ImageMagick for
# screenshots and clicks, and the xcb libraries the Qt platform plugin loads; iproute2 gives the
# interop tests a non-loopback address (a veth pair) for the pairing path; libnotify-bin gives
# plyer a notifier; openssh-server and samba are the SFTP and SMB servers of the sync tests;
# nsis gives makensis, which compiles the Windows installer script here (tests/e2e/test_installer.py);
# icu-devtools (icupkg) and binutils rebuild the bundle's ICU data (installers/linux/icu_data.py);
# wine64 runs the compiled installer and uninstaller, and `locales` lets those tests compile the
# Chinese and Japanese locales Wine takes the user's language from (tests/e2e/test_installer_wine.py).
packages=(nodejs npm iproute2 xvfb xauth x11-utils xdotool imagemagick libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0
          libxkbcommon-x11-0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libegl1 libgl1
          libfontconfig1 libdbus-1-3 fonts-wqy-microhei trayer dbus libnotify-bin openssh-server
          samba nsis icu-devtools binutils wine64 locales)

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
