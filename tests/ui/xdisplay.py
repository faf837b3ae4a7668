"""A real X display with a system tray, for tests that run the desktop app as a person would.

`x_desktop()` starts Xvfb on a free display number (Xvfb picks it: `-displayfd`), a session
D-Bus (`dbus-daemon --session`) and `trayer` (an XEmbed system tray docked at the top right),
and stops each by its pid afterwards. `XDesktop` has the environment for programs on that
display and small helpers around xdotool (find windows, click, press keys), xwininfo and
ImageMagick's `import` (screenshots of the whole screen, which the tests save and check).

These tools come from apt (scripts/system-deps.sh): xvfb, dbus, trayer, xdotool, x11-utils,
imagemagick.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("Xvfb", "dbus-daemon", "trayer", "xdotool", "xwininfo", "import")
SCREEN = "1280x800x24"


@dataclass
class Window:
    id: int
    x: int
    y: int
    width: int
    height: int
    name: str = ""


@dataclass
class XDesktop:
    display: str  # ":N"
    dbus_address: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.dbus_address,
                    "QT_QPA_PLATFORM": "xcb"})
        for name in ("WAYLAND_DISPLAY", "XAUTHORITY"):
            env.pop(name, None)
        return env

    def run(self, *args: str, timeout: float = 10.0, check: bool = True) -> str:
        result = subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-window", "root", str(path), timeout=30)
        return path

    def search(self, *criteria: str, visible: bool = True) -> list[int]:
        """Window ids matching xdotool search criteria (e.g. "--classname", "trayer")."""
        args = ["xdotool", "search", *(["--onlyvisible"] if visible else []), *criteria]
        out = self.run(*args, check=False)
        return [int(line) for line in out.split() if line.strip().isdigit()]

    def geometry(self, window: int) -> Window:
        out = self.run("xwininfo", "-id", str(window))
        values = {}
        for key in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"):
            match = re.search(rf"{key}:\s+(-?\d+)", out)
            values[key] = int(match.group(1)) if match else 0
        name = re.search(r'xwininfo: Window id: \S+ "(.*)"', out)
        return Window(window, values["Absolute upper-left X"], values["Absolute upper-left Y"],
                      values["Width"], values["Height"], name.group(1) if name else "")

    def windows_of(self, pid: int) -> list[Window]:
        """The visible top-level-ish windows a process mapped."""
        return [self.geometry(w) for w in self.search("--pid", str(pid))]

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run("xdotool", "mousemove", str(x), str(y))
        time.sleep(0.1)
        self.run("xdotool", "click", str(button))

    def key(self, *keys: str) -> None:
        self.run("xdotool", "key", *keys)

    def wait_for(self, predicate: object, timeout: float = 10.0, what: str = "") -> object:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate() if callable(predicate) else predicate
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
            time.sleep(0.1)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout)


def _kill_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def x_desktop(screen: str = SCREEN, tint: str = "0xdddddd") -> Iterator[XDesktop]:
    """Xvfb + session D-Bus + trayer; everything started here is stopped by pid on exit."""
    missing = missing_tools()
    if missing:
        raise AssertionError(f"missing X tools {missing}: install them with scripts/system-deps.sh")
    processes: list[subprocess.Popen[bytes]] = []
    dbus_pid: int | None = None
    read_fd, write_fd = os.pipe()
    try:
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
                                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(xvfb)
        os.close(write_fd)
        write_fd = -1
        number = b""
        deadline = time.monotonic() + 15
        while not number.endswith(b"\n"):
            chunk = os.read(read_fd, 16)
            if not chunk:
                raise AssertionError(f"Xvfb did not start (exit code {xvfb.poll()})")
            number += chunk
            if time.monotonic() > deadline:
                raise AssertionError("Xvfb did not report its display number")
        display = f":{int(number.strip())}"

        out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                             capture_output=True, text=True, timeout=15, check=True).stdout.split()
        address, dbus_pid = out[0], int(out[1])
        desktop = XDesktop(display, address, processes)

        tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                 "--height", "24", "--transparent", "false", "--tint", tint,
                                 "--SetDockType", "true", "--expand", "true"],
                                env=desktop.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(tray)
        desktop.wait_for(lambda: desktop.search("--name", "^panel$") or tray.poll() is not None, 15,
                         "trayer's window")
        if tray.poll() is not None:
            raise AssertionError(f"trayer exited with {tray.returncode}")
        yield desktop
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        for process in reversed(processes):
            _stop(process)
        if dbus_pid is not None:
            _kill_pid(dbus_pid)


__all__ = ["Window", "XDesktop", "missing_tools", "x_desktop"]
