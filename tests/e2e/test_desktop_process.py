"""`molt-desktop` (the desktop app) as a real process: no display, single instance, clean quit.

The app runs offscreen here (no tray there, so its chat window opens); the real-display tray
test is tests/ui/test_tray_xvfb.py.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.e2e.conftest import (PYTHON, REPO, Processes, clean_env, free_port, log_lines, run_cli, wait_until,
                                write_config)


def _messages(home: Path) -> list[str]:
    return [str(line.get("message")) for line in log_lines(home)]


def test_without_a_display_it_says_how_to_run_the_gateway(home: Path) -> None:
    result = run_cli(home)
    assert result.code == 2
    assert "No display" in result.stderr and "molt-desktop gateway" in result.stderr
    assert not (home / "molt-desktop.lock").exists()


def test_second_launch_opens_the_running_window_and_quit_is_clean(procs: Processes, home: Path) -> None:
    fake = procs.fake()
    port = free_port()
    write_config(home, {"fake": fake.base_url}, port=port, extra={"ui": {"startMinimized": True}})
    env = clean_env(home, QT_QPA_PLATFORM="offscreen")
    popen, out, err, files = procs._spawn("desktop", [PYTHON, "-m", "molt_desktop"], env)
    try:
        wait_until(lambda: any(m.startswith("desktop ready") for m in _messages(home)) or popen.poll() is not None,
                   30, "the desktop app to start")
        assert popen.poll() is None, err.read_text()
        assert f"gateway on 127.0.0.1:{port}" in next(m for m in _messages(home) if m.startswith("desktop ready"))
        second = subprocess.run([PYTHON, "-m", "molt_desktop"], cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=30)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        wait_until(lambda: "another launch asked to show the chat window" in _messages(home), 10,
                   "the running app to hear the second launch")
        popen.send_signal(signal.SIGTERM)
        assert popen.wait(30) == 0
        messages = _messages(home)
        order = [m for m in messages if m in ("quitting", "stopping: endpoint pool", "stopping: gateway",
                                              "stopping: session store", "stopped")]
        assert order == ["quitting", "stopping: endpoint pool", "stopping: gateway", "stopping: session store",
                         "stopped"]
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait()
        for file in files:
            file.close()
