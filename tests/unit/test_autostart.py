"""Start at login: the XDG desktop entry and the macOS LaunchAgent written for real into temporary
directories, and the Windows Run value built without a registry."""

from __future__ import annotations

import plistlib
import shlex
import os
import sys
from pathlib import Path

import pytest

from molt_desktop import autostart
from molt_desktop.autostart import Autostart, desktop_exec, launch_command, windows_run_value

COMMAND = ["/opt/Molt Desktop/bin/molt-desktop", "--flag=50%"]


def _exec_line(path: Path) -> str:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("Exec=")]
    assert len(lines) == 1
    return lines[0].removeprefix("Exec=")


def test_linux_desktop_entry_is_written_and_removed(tmp_path: Path) -> None:
    login = Autostart("linux", home=tmp_path / "home", config_home=tmp_path / "xdg", command=COMMAND)
    assert login.path == tmp_path / "xdg" / "autostart" / "molt-desktop.desktop"
    assert not login.enabled()
    login.set(True)
    text = login.path.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert "Type=Application\n" in text and "Terminal=false\n" in text
    # The spec's quoting: the string-level escapes undone, then shell-like words with %% for %.
    exec_value = _exec_line(login.path).replace("\\\\", "\\")
    assert [word.replace("%%", "%") for word in shlex.split(exec_value)] == COMMAND
    assert (login.path.stat().st_mode & 0o777) == 0o644
    assert login.enabled()
    login.set(False)
    assert not login.path.exists()
    assert not login.enabled()
    login.set(False)  # removing twice is fine


def test_linux_honours_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    login = Autostart("linux", home=tmp_path / "home", command=["molt-desktop"])
    assert login.path == tmp_path / "cfg" / "autostart" / "molt-desktop.desktop"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")  # the spec: only absolute paths count
    assert Autostart("linux", home=tmp_path / "home").path == tmp_path / "home" / ".config" / "autostart" / (
        "molt-desktop.desktop")


def test_a_disabled_desktop_entry_is_not_enabled(tmp_path: Path) -> None:
    login = Autostart("linux", home=tmp_path, config_home=tmp_path, command=["molt-desktop"])
    login.set(True)
    assert login.path is not None
    login.path.write_text(login.path.read_text(encoding="utf-8") + "Hidden=true\n", encoding="utf-8")
    assert not login.enabled()


def test_desktop_exec_quotes_what_needs_quotes() -> None:
    assert desktop_exec(["/usr/bin/molt-desktop"]) == "/usr/bin/molt-desktop"
    assert desktop_exec(["/a b/py", "-m", "molt_desktop"]) == '"/a b/py" -m molt_desktop'
    assert desktop_exec(['say "$x"']) == '"say \\\\"\\\\$x\\\\""'


def test_macos_launch_agent_is_written_and_removed(tmp_path: Path) -> None:
    login = Autostart("darwin", home=tmp_path, command=COMMAND)
    assert login.path == tmp_path / "Library" / "LaunchAgents" / f"{autostart.APP_ID}.plist"
    assert not login.enabled()
    login.set(True)
    agent = plistlib.loads(login.path.read_bytes())
    assert agent["Label"] == autostart.APP_ID
    assert agent["ProgramArguments"] == COMMAND
    assert agent["RunAtLoad"] is True
    assert login.enabled()
    login.set(False)
    assert not login.path.exists() and not login.enabled()


def test_a_broken_launch_agent_is_not_enabled(tmp_path: Path) -> None:
    login = Autostart("darwin", home=tmp_path, command=COMMAND)
    assert login.path is not None
    login.path.parent.mkdir(parents=True)
    login.path.write_bytes(b"not a plist")
    assert not login.enabled()


def test_windows_run_value_is_one_quoted_command_line() -> None:
    value = windows_run_value([r"C:\Program Files\Molt Desktop\molt-desktop.exe"])
    assert value == r'"C:\Program Files\Molt Desktop\molt-desktop.exe"'
    value = windows_run_value([r"C:\Users\Li Wei\venv\Scripts\pythonw.exe", "-m", "molt_desktop"])
    assert value == r'"C:\Users\Li Wei\venv\Scripts\pythonw.exe" -m molt_desktop'
    assert Autostart("win32", command=["x"]).path is None


def test_the_windows_registry_is_only_touched_on_windows() -> None:
    if sys.platform != "win32":
        with pytest.raises(OSError):
            Autostart("win32", command=["x"]).set(True)
        assert not Autostart("win32", command=["x"]).enabled()


def test_launch_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "MoltDesktop"))
    assert launch_command() == [str(tmp_path / "MoltDesktop")]
    # Frozen and run from the console CLI: the windowed app beside it starts at login.
    windowed = tmp_path / ("MoltDesktop.exe" if os.name == "nt" else "MoltDesktop")
    windowed.write_bytes(b"")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "molt-desktop"))
    assert launch_command() == [str(windowed)]
    windowed.unlink()
    assert launch_command() == [str(tmp_path / "molt-desktop")]
    monkeypatch.setattr(sys, "executable", str(tmp_path / "MoltDesktop"))
    monkeypatch.delattr(sys, "frozen")
    assert launch_command() == [str(tmp_path / "MoltDesktop"), "-m", "molt_desktop"]
    script = tmp_path / "molt-desktop"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    assert launch_command() == [str(script)]
