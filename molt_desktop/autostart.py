"""Start molt-desktop when the user logs in: the per-user mechanism of each platform.

- Windows: the value `MoltDesktop` under `HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`
  (winreg; per user, no admin rights).
- Linux and other XDG desktops: `$XDG_CONFIG_HOME/autostart/molt-desktop.desktop`
  (default `~/.config/autostart/`), an XDG desktop entry.
- macOS: `~/Library/LaunchAgents/<APP_ID>.plist`, a LaunchAgent with `RunAtLoad`.

`set_autostart(enabled)` and `autostart_enabled()` act on the running platform. `Autostart`
holds the platform, the target directories and the command line, so tests write the Linux and
macOS files into temporary directories and check the Windows value without a registry.
The command started is the frozen executable, else the `molt-desktop` entry-point script next to
the interpreter, else `python -m molt_desktop`.

Calls may touch the disk or the registry: from the event loop, run them with asyncio.to_thread.
The settings dialog decides when to call them (ui.autostart); nothing here reads the config.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from pathlib import Path

from molt_desktop.fileio import atomic_write
from molt_desktop.logs import get_logger

log = get_logger("autostart")

APP_ID = "io.github.molt-desktop"
APP_NAME = "Molt Desktop"
DESKTOP_FILE = "molt-desktop.desktop"
WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
WINDOWS_VALUE_NAME = "MoltDesktop"
# Characters that make the Exec key of a desktop entry need quotes (Desktop Entry spec, "Exec key").
_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def launch_command() -> list[str]:
    """How to start this installation of molt-desktop from a login item."""
    if getattr(sys, "frozen", False):
        # The windowed app of the bundle, also when the setting was changed from the console CLI:
        # a console executable would open a console window at every login.
        here = Path(sys.executable)
        windowed = here.with_name("MoltDesktop.exe" if os.name == "nt" else "MoltDesktop")
        return [str(windowed if windowed.is_file() else here)]
    bin_dir = Path(sys.executable).parent
    for name in ("molt-desktop.exe", "molt-desktop") if os.name == "nt" else ("molt-desktop",):
        script = bin_dir / name
        if script.is_file():
            return [str(script)]
    python = Path(sys.executable)
    if os.name == "nt" and python.name.lower() == "python.exe":
        # pythonw.exe: no console window at every login.
        windowless = python.with_name("pythonw.exe")
        if windowless.is_file():
            python = windowless
    return [str(python), "-m", "molt_desktop"]


def desktop_exec(command: list[str]) -> str:
    """The Exec value of a desktop entry for `command` (quoting and `%` escaping per the spec)."""
    parts = []
    for arg in command:
        arg = arg.replace("%", "%%")
        if arg and not (_DESKTOP_RESERVED & set(arg)):
            parts.append(arg)
            continue
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        parts.append(f'"{escaped}"')
    # The whole value is itself a string value, whose backslashes are escaped once more.
    return " ".join(parts).replace("\\", "\\\\")


def desktop_entry(command: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=AI chat with an embedded OpenClaw-compatible gateway\n"
        f"Exec={desktop_exec(command)}\n"
        "Icon=molt-desktop\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def launch_agent(command: list[str]) -> bytes:
    """The LaunchAgent property list that starts `command` at login."""
    return plistlib.dumps({
        "Label": APP_ID,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    })


def windows_run_value(command: list[str]) -> str:
    """The Run value: one command line, quoted the way Windows parses it."""
    return subprocess.list2cmdline(command)


class Autostart:
    """Login-item management for one platform ("win32", "darwin" or anything XDG)."""

    def __init__(self, platform: str | None = None, *, home: Path | None = None,
                 config_home: Path | None = None, command: list[str] | None = None) -> None:
        self.platform = platform or sys.platform
        self.home = home or Path.home()
        xdg = os.environ.get("XDG_CONFIG_HOME")
        self.config_home = config_home or (Path(xdg) if xdg and Path(xdg).is_absolute() else self.home / ".config")
        self._command = command

    @property
    def command(self) -> list[str]:
        return self._command if self._command is not None else launch_command()

    @property
    def path(self) -> Path | None:
        """The file that makes the login item (None on Windows, where it is a registry value)."""
        if self.platform == "win32":
            return None
        if self.platform == "darwin":
            return self.home / "Library" / "LaunchAgents" / f"{APP_ID}.plist"
        return self.config_home / "autostart" / DESKTOP_FILE

    def set(self, enabled: bool) -> None:
        """Create or remove the login item; OSError (FileWriteError) when that fails."""
        if self.platform == "win32":
            _windows_set(windows_run_value(self.command) if enabled else None)
        else:
            path = self.path
            assert path is not None
            if enabled:
                data = launch_agent(self.command) if self.platform == "darwin" else desktop_entry(self.command)
                atomic_write(path, data, mode=0o644)
            else:
                path.unlink(missing_ok=True)
        log.info("start at login %s", "enabled" if enabled else "disabled")

    def enabled(self) -> bool:
        if self.platform == "win32":
            return _windows_get() is not None
        path = self.path
        assert path is not None
        if self.platform == "darwin":
            try:
                return bool(plistlib.loads(path.read_bytes()).get("RunAtLoad"))
            except (OSError, plistlib.InvalidFileException, ValueError, AttributeError):
                return False
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        lines = {line.strip().lower() for line in text.splitlines()}
        return "hidden=true" not in lines and "x-gnome-autostart-enabled=false" not in lines


def _windows_set(value: str | None) -> None:
    if sys.platform == "win32":
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
            if value is None:
                try:
                    winreg.DeleteValue(key, WINDOWS_VALUE_NAME)
                except FileNotFoundError:
                    pass
            else:
                winreg.SetValueEx(key, WINDOWS_VALUE_NAME, 0, winreg.REG_SZ, value)
    else:
        raise OSError("the Windows Run key exists only on Windows")


def _windows_get() -> str | None:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, WINDOWS_VALUE_NAME)
        except OSError:
            return None
        return str(value)
    return None


def set_autostart(enabled: bool) -> None:
    """Start molt-desktop at login (or not) on this computer."""
    Autostart().set(enabled)


def autostart_enabled() -> bool:
    """Whether molt-desktop starts at login on this computer."""
    return Autostart().enabled()
