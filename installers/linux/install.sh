#!/usr/bin/env bash
# Install the PyInstaller bundle for the current user: menu entry, icon, and optionally autostart.
#
#   bash installers/linux/install.sh [--autostart] [DIST]     (DIST: default dist/molt-desktop)
#   bash installers/linux/install.sh --uninstall
#
# The bundle is copied to ~/.local/opt/molt-desktop; the menu entry (molt-desktop.desktop, with
# @BUNDLE@ replaced by that path) goes to ~/.local/share/applications and the icon to the
# hicolor theme. --autostart puts the same entry in ~/.config/autostart, which is the file the
# app's own "Start at login" setting writes, so either can switch it off later. The user's data
# (~/.local/share/molt-desktop) is never touched.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
config="${XDG_CONFIG_HOME:-$HOME/.config}"
target="$HOME/.local/opt/molt-desktop"
autostart=0
dist="$here/../../dist/molt-desktop"
for arg in "$@"; do
  case "$arg" in
    --autostart) autostart=1 ;;
    --uninstall)
      rm -rf "$target"
      rm -f "$prefix/applications/molt-desktop.desktop" "$config/autostart/molt-desktop.desktop" \
            "$prefix/icons/hicolor/scalable/apps/molt-desktop.svg"
      echo "removed molt-desktop (your data in $prefix/molt-desktop is kept)"
      exit 0 ;;
    *) dist="$arg" ;;
  esac
done
if [ ! -x "$dist/MoltDesktop" ]; then
  echo "no bundle at $dist: build it first with: python -m PyInstaller build.spec" >&2
  exit 1
fi
mkdir -p "$(dirname "$target")" "$prefix/applications" "$prefix/icons/hicolor/scalable/apps"
rm -rf "$target"
cp -a "$dist" "$target"
sed "s|@BUNDLE@|$target|g" "$here/molt-desktop.desktop" > "$prefix/applications/molt-desktop.desktop"
cp "$here/molt-desktop.svg" "$prefix/icons/hicolor/scalable/apps/molt-desktop.svg"
if [ "$autostart" = 1 ]; then
  mkdir -p "$config/autostart"
  { cat "$prefix/applications/molt-desktop.desktop"; echo "X-GNOME-Autostart-enabled=true"; } \
    > "$config/autostart/molt-desktop.desktop"
fi
command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/applications" || true
echo "installed molt-desktop in $target (menu entry Molt Desktop; start at login: $([ "$autostart" = 1 ] && echo on || echo off))"
