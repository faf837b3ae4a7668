"""The real app in a real tray: Xvfb + session D-Bus + trayer, the app as its own process.

`molt-desktop` (python -m molt_desktop --verbose) runs with a state dir whose config points at
a fake model server process. The test reads the app's JSON log for what happened (tray state
changes, the icon's geometry, clicks, windows), takes screenshots of the whole screen
(.cache/screenshots/tray-xvfb.png, tray-chat.png, tray-menu.png, tray-degraded.png), and checks:
the icon appears in trayer (green pixels where the app says the icon is), a left click opens the
chat window (a large window of the app's process appears), a right click opens the menu with
its entries, and breaking the config file turns the icon amber ("degraded") until it is fixed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from tests.gateway.conftest import write_config
from tests.ui.conftest import ROOT, SCREENSHOTS
from tests.ui.xdisplay import Window, XDesktop, x_desktop

OK_GREEN = QColor("#1f9d55")
DEGRADED_AMBER = QColor("#e08a00")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppLog:
    """The app's JSON-lines log file, read as it grows."""

    def __init__(self, path: Path, process: subprocess.Popen[bytes], stderr: Path) -> None:
        self.path = path
        self.process = process
        self.stderr = stderr
        self.seen = 0

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text("utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def wait(self, prefix: str, timeout: float = 20.0, *, new: bool = True) -> str:
        """The message of the first line starting with `prefix` (after the last one waited for)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.entries()
            start = self.seen if new else 0
            for index in range(start, len(entries)):
                message = str(entries[index].get("message", ""))
                if message.startswith(prefix):
                    self.seen = index + 1
                    return message
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}) before logging {prefix!r}:\n"
                                     f"{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line {prefix!r} within {timeout} s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self) -> str:
        lines = [str(e.get("message", "")) for e in self.entries()[-25:]]
        err = self.stderr.read_text("utf-8", errors="replace")[-3000:] if self.stderr.exists() else ""
        return "\n".join(lines) + "\n--- stderr ---\n" + err


@pytest.fixture
def desktop_x() -> Iterator[XDesktop]:
    with x_desktop() as desktop:
        yield desktop


@pytest.fixture
def fake_process() -> Iterator[SimpleNamespace]:
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.serve", "--kind", "openai", "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening "), line
        port = int(line.split()[1])
        yield SimpleNamespace(kind="openai", origin=f"http://127.0.0.1:{port}",
                              base_url=f"http://127.0.0.1:{port}/v1")
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def icon_pixels(shot: Path, rect: Window, color: QColor) -> int:
    """How many pixels inside `rect` are close to `color`."""
    image = QImage(str(shot))
    assert not image.isNull(), shot
    count = 0
    for y in range(max(rect.y, 0), min(rect.y + rect.height, image.height())):
        for x in range(max(rect.x, 0), min(rect.x + rect.width, image.width())):
            pixel = image.pixelColor(x, y)
            if (abs(pixel.red() - color.red()) + abs(pixel.green() - color.green())
                    + abs(pixel.blue() - color.blue())) < 60:
                count += 1
    return count


def big_windows(desktop: XDesktop, pid: int) -> list[Window]:
    return [w for w in desktop.windows_of(pid) if w.width >= 300 and w.height >= 200]


def test_tray_icon_menu_chat_window_and_health_states(desktop_x: XDesktop, fake_process: SimpleNamespace,
                                                      state_home: Path, tmp_path: Path) -> None:
    state = state_home
    write_config(state, fake_process, port=_free_port())  # type: ignore[arg-type]
    env = desktop_x.env
    env.update({"MOLT_DESKTOP_HOME": str(state), "QT_API": "pyside6", "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    env.pop("MOLT_DESKTOP_SCREENSHOTS", None)
    stderr = tmp_path / "app.stderr"
    with stderr.open("wb") as err:
        app = subprocess.Popen([sys.executable, "-m", "molt_desktop", "--verbose"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=err)
    log = AppLog(state / "logs" / "molt-desktop.log", app, stderr)
    try:
        # The icon appears: the app says where, and the screen shows it there, green.
        assert log.wait("tray state ok", 40).startswith("tray state ok: The local gateway is running at 127.0.0.1:")
        geometry = log.wait("tray icon geometry ", 15, new=False)
        position, size = geometry.removeprefix("tray icon geometry ").split()
        x, y = (int(v) for v in position.split(","))
        w, h = (int(v) for v in size.split("x"))
        icon = Window(0, x, y, w, h)
        assert w > 0 and h > 0 and y < 30 and x > 1000, geometry  # docked in trayer, top right
        time.sleep(0.5)  # let trayer paint
        shot = desktop_x.screenshot(SCREENSHOTS / "tray-xvfb.png")
        assert icon_pixels(shot, icon, OK_GREEN) > (w * h) // 8, "no green tray icon where the app says it is"
        assert not big_windows(desktop_x, app.pid)  # ui.startMinimized: only the tray at first

        # A left click opens the chat window.
        desktop_x.click(x + w // 2, y + h // 2, 1)
        log.wait("tray icon clicked", 10)
        log.wait("chat window shown", 20)
        windows = desktop_x.wait_for(lambda: big_windows(desktop_x, app.pid), 15, "the chat window")
        assert windows
        time.sleep(0.5)
        desktop_x.screenshot(SCREENSHOTS / "tray-chat.png")
        # Clicking again hides it (the icon toggles the window).
        desktop_x.click(x + w // 2, y + h // 2, 1)
        log.wait("chat window hidden", 10)
        desktop_x.wait_for(lambda: not big_windows(desktop_x, app.pid), 10, "the chat window to hide")

        # A right click opens the menu, with its entries in order.
        desktop_x.click(x + w // 2, y + h // 2, 3)
        entries = log.wait("tray menu opened: ", 10).removeprefix("tray menu opened: ").split(" | ")
        assert entries == ["Open chat", "Recent chats", "New chat", "Gateway status", "Sync now", "Health…",
                           "Settings…", "Language", "Quit molt-desktop"]
        time.sleep(0.7)
        menu_shot = desktop_x.screenshot(SCREENSHOTS / "tray-menu.png")
        menus = [win for win in desktop_x.windows_of(app.pid) if win.height > 150 and win.width >= 100]
        assert menus, "the menu did not appear"
        assert QImage(str(menu_shot)).pixelColor(menus[0].x + 5, menus[0].y + 5).lightness() > 100
        desktop_x.key("Escape")

        # Gateway health changes the state: a broken config file -> degraded (amber), fixed -> ok.
        config = state / "moltbot.json"
        good = config.read_text("utf-8")
        config.write_text(good.replace("{", "{ this is not json", 1), "utf-8")
        reason = log.wait("tray state degraded", 20).removeprefix("tray state degraded: ")
        assert reason.startswith("The settings file has an error"), reason
        time.sleep(0.5)
        shot = desktop_x.screenshot(SCREENSHOTS / "tray-degraded.png")
        assert icon_pixels(shot, icon, DEGRADED_AMBER) > (w * h) // 8, "the icon did not turn amber"
        config.write_text(good, "utf-8")
        log.wait("tray state ok", 20)

        # Quit from the outside (SIGTERM) stops cleanly.
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0, log.tail()
        assert log.wait("stopped", 5, new=False)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
