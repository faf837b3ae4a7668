"""`molt-desktop --quit`: the running desktop app (its own process, Qt offscreen) quits as from its
tray menu when another process asks, and the asking process waits until it has. The Windows
installer runs it before it replaces the files; tests/e2e/test_frozen.py does it with the bundle.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import REPO, Processes, clean_env, free_port, log_lines, wait_until, write_config


def quit_command(home: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "molt_desktop", "--quit"], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=clean_env(home, MOLT_DESKTOP_LANG="en"))


def test_quit_asks_the_running_app_and_waits_until_it_has(procs: Processes, home: Path, tmp_path: Path) -> None:
    fake = procs.fake()
    port = free_port()
    write_config(home, {"fake": fake.base_url}, port=port, extra={"ui": {"startMinimized": True}})
    stderr = tmp_path / "app.stderr"
    with stderr.open("wb") as err:
        app = subprocess.Popen([sys.executable, "-m", "molt_desktop", "--verbose"], cwd=REPO, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=err,
                               env=clean_env(home, QT_QPA_PLATFORM="offscreen", MOLT_DESKTOP_LANG="en"))
    try:
        wait_until(lambda: any(str(line.get("message", "")).startswith("desktop ready") for line in log_lines(home)),
                   60, f"the app to start: {stderr.read_text('utf-8', errors='replace')[-2000:]}")
        done = quit_command(home)
        assert done.returncode == 0, done.stderr
        assert "molt-desktop has quit." in done.stderr
        # By the time --quit returns, the app has let go of its lock and is exiting on its own.
        assert app.wait(15) == 0
        messages = [str(line.get("message", "")) for line in log_lines(home)]
        assert "another process asked the app to quit" in messages
        assert messages[-1] == "stopped", messages[-5:]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)

    again = quit_command(home)
    assert again.returncode == 0 and "molt-desktop is not running." in again.stderr, again.stderr


def test_quit_with_nothing_running(home: Path) -> None:
    started = time.monotonic()
    done = quit_command(home)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "molt-desktop is not running."
    assert time.monotonic() - started < 30


HUNG_APP = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from molt_desktop.ui.single_instance import SingleInstance
app = QCoreApplication([])
instance = SingleInstance(Path(sys.argv[1]))
assert instance.acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_quit_reports_an_app_that_holds_the_lock_but_does_not_answer(home: Path) -> None:
    # A hung app (its own process): it holds the state dir's lock but takes no messages.
    hung = subprocess.Popen([sys.executable, "-c", HUNG_APP, str(home)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True, env=clean_env(home))
    try:
        assert hung.stdout is not None and hung.stdout.readline().strip() == "locked"
        done = quit_command(home)
    finally:
        hung.kill()
        hung.communicate(timeout=10)
    assert done.returncode == 1
    assert f"The molt-desktop running with this state folder ({home}) does not answer." in done.stderr


def test_quit_speaks_chinese(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "molt_desktop", "--quit"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=clean_env(home, MOLT_DESKTOP_LANG="zh_CN"))
    assert done.returncode == 0
    assert "molt-desktop" in done.stderr and "not running" not in done.stderr, done.stderr
