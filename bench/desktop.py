"""Benchmarks of the desktop app: cold start, idle memory, and UI responsiveness while streaming.

    .venv/bin/python bench/desktop.py [--runs 3] [--json] [--skip-start]

1. Cold start to tray icon visible: the real app (`python -m molt_desktop`) on a virtual X display
   with a tray host (Xvfb + trayer, started here when no DISPLAY is given), from process spawn to
   the log line written right after the tray icon is shown. Target: under 1.5 s.
2. Idle RSS of the whole app (Qt, the embedded gateway, the UI) 5 s after start-up in the tray
   (the default, `ui.startMinimized`), and 5 s after the chat window was opened (a second launch
   asks the running app to show it; its conversation view warms the model client). Target:
   under 150 MB.
3. UI responsiveness, in this process (offscreen) with the real gateway, the endpoint pool and a
   ChatWindow: a 10 ms QTimer probe records the event-loop lag (how late each tick fires) while
   (a) a 2,000-chunk reply streams from the fake model through the gateway (which coalesces
   deltas, so the window sees about one per 50 ms), and (b) 2,000 deltas of a long Markdown reply
   with code blocks are delivered to the window one after the other, each as its own event.
   Reported: lag p50/p99/max, the time spent in the window's chat-event handlers, and when the
   window had drawn everything (it draws at most once per frame, finished blocks in slices).
   Target: lag p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_API", "pyside6")

from bench.gateway import child_env, free_port, start_fake, stop_process, write_config  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- 1 and 2: the real app as a process ------------------------------------------------------


class VirtualDesktop:
    """Xvfb with trayer on a free display, for runs without a real one."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.display = ""

    def __enter__(self) -> VirtualDesktop:
        if os.environ.get("DISPLAY"):
            self.display = os.environ["DISPLAY"]
            return self
        if not shutil.which("Xvfb") or not shutil.which("trayer"):
            raise SystemExit("no DISPLAY, and Xvfb/trayer are not installed (bash scripts/system-deps.sh)")
        number = next(n for n in range(140, 400) if not Path(f"/tmp/.X11-unix/X{n}").exists())
        self.display = f":{number}"
        self.procs.append(subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if time.monotonic() > deadline:
                raise SystemExit("Xvfb did not start")
            time.sleep(0.02)
        env = {**os.environ, "DISPLAY": self.display}
        self.procs.append(subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                            "--height", "24", "--SetDockType", "true", "--transparent", "false"],
                                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)  # trayer takes the tray selection
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def _log_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text("utf-8", errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


def _ms_of(entry: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()


def app_runs(runs: int) -> dict[str, Any]:
    starts: list[float] = []
    rss: list[float] = []
    rss_open: list[float] = []
    quits: list[float] = []
    fake_port = free_port()
    fake = start_fake(fake_port)
    try:
        with VirtualDesktop() as desk:
            for _ in range(runs):
                with tempfile.TemporaryDirectory(prefix="molt-bench-") as tmp:
                    state = Path(tmp) / "state"
                    write_config(state, fake_port, free_port())
                    config = json.loads((state / "moltbot.json").read_text())
                    config["ui"] = {"startMinimized": True, "language": "en"}
                    (state / "moltbot.json").write_text(json.dumps(config))
                    env = {**child_env(state), "DISPLAY": desk.display, "QT_QPA_PLATFORM": "xcb"}
                    log = state / "logs" / "molt-desktop.log"
                    spawned = time.time()
                    proc = subprocess.Popen([sys.executable, "-m", "molt_desktop"], env=env,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    shown = None
                    deadline = time.monotonic() + 30
                    while shown is None and time.monotonic() < deadline and proc.poll() is None:
                        shown = next((e for e in _log_lines(log) if e.get("message") == "tray icon shown"), None)
                        time.sleep(0.005)
                    if shown is None:
                        stop_process(proc)
                        raise SystemExit(f"the app did not show its tray icon; log: {log}")
                    starts.append(_ms_of(shown) - spawned)
                    time.sleep(5)
                    process = psutil.Process(proc.pid)
                    rss.append(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20)
                    subprocess.run([sys.executable, "-m", "molt_desktop"], env=env, capture_output=True, timeout=30)
                    time.sleep(5)
                    rss_open.append(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
                                    / 2**20)
                    asked = time.monotonic()
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
                    quits.append(time.monotonic() - asked)
    finally:
        stop_process(fake)
    return {"cold_start_to_tray_s": starts, "idle_rss_mb": rss, "idle_rss_chat_open_mb": rss_open, "quit_s": quits}


# --- 3: responsiveness while a reply streams -------------------------------------------------

LONG_REPLY_BLOCK = (
    "## Step {n}\n\nThis paragraph explains step {n} of the plan in a few sentences, with **bold** text, "
    "`inline code` and a [link](https://example.com/{n}). 这一步说明了计划的第 {n} 部分。\n\n"
    "```python\ndef step_{n}(items: list[int]) -> int:\n    total = 0\n    for item in items:\n"
    "        total += item * {n}\n    return total\n```\n\n- one point\n- another point\n\n"
)


def long_reply(chars: int) -> str:
    parts: list[str] = []
    n = 1
    while sum(len(p) for p in parts) < chars:
        parts.append(LONG_REPLY_BLOCK.format(n=n))
        n += 1
    return "".join(parts)[:chars]


class LagProbe:
    """A 10 ms QTimer; each tick records how late it fired."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.lags: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lags.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.lags)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, (now - self._last) * 1000 - 10))
        self._last = now


def lag_summary(lags: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(lags, 0.5), 2), "p99_ms": round(pct(lags, 0.99), 2),
            "max_ms": round(max(lags) if lags else float("nan"), 2), "ticks": len(lags)}


async def drawn(window: Any) -> None:
    """Wait until the chat window has drawn everything it received (drawing may lag the events)."""
    while any(m.body.pending() for m in window.conversation.messages()):
        await asyncio.sleep(0.005)


async def streaming(chunks: int, synthetic_chars: int) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from molt_desktop.app import GatewayOptions, Services
    from molt_desktop.ui.actions import DesktopActions
    from molt_desktop.ui.bridge import GatewayBridge
    from molt_desktop.ui.chat_window import ChatWindow
    from tests.fakes.common import FakeModelServer

    app = QApplication.instance()
    assert app is not None
    with tempfile.TemporaryDirectory(prefix="molt-bench-ui-") as tmp:
        state = Path(tmp)
        os.environ["MOLT_DESKTOP_HOME"] = str(state)
        async with FakeModelServer("openai") as fake:
            fake.behavior.text = long_reply(synthetic_chars)
            fake.behavior.chunks = chunks
            fake.behavior.delay = 0.002
            write_config(state, free_port(), free_port())
            config = json.loads((state / "moltbot.json").read_text())
            config["models"]["providers"]["fake"]["baseUrl"] = fake.base_url
            (state / "moltbot.json").write_text(json.dumps(config))
            services = Services(state, GatewayOptions(port=0), with_client=True)
            await services.start()
            assert services.pool is not None and await services.pool.wait_connected(10)
            bridge = GatewayBridge(services.pool)
            render: list[float] = []
            started: list[float] = []
            bridge.chatEvent.connect(lambda _p: started.append(time.perf_counter()))
            window = ChatWindow(bridge, DesktopActions())
            bridge.chatEvent.connect(lambda _p: render.append(time.perf_counter() - started[-1]))
            window.resize(1000, 760)
            window.show()
            key = f"agent:main:bench-{uuid.uuid4().hex[:8]}"
            window.open_session(key)
            await asyncio.sleep(0.5)
            probe = LagProbe()

            # (a) through the gateway
            done = asyncio.Event()
            bridge.chatEvent.connect(lambda p: done.set() if p.get("state") in ("final", "error") else None)
            probe.start()
            t0 = time.perf_counter()
            await bridge.call("chat.send", {"sessionKey": key, "message": "long reply please",
                                            "idempotencyKey": str(uuid.uuid4())})
            await asyncio.wait_for(done.wait(), 120)
            stream_s = time.perf_counter() - t0
            await drawn(window)
            drawn_s = time.perf_counter() - t0
            await asyncio.sleep(0.1)
            gateway_lags = probe.stop()
            gateway = {"chunks": chunks, "events_rendered": len(render), "stream_s": round(stream_s, 3),
                       "drawn_s": round(drawn_s, 3),
                       "render_total_ms": round(sum(render) * 1000, 1), **lag_summary(gateway_lags)}

            # (b) 2,000 deltas straight into the window, one event each
            render.clear()
            text = long_reply(synthetic_chars)
            step = max(1, len(text) // 2000)
            run_id = f"bench-{uuid.uuid4().hex}"
            probe.start()
            t0 = time.perf_counter()
            seq = 0
            for end in range(step, len(text) + step, step):
                seq += 1
                cut = text[:end]
                bridge.chatEvent.emit({"runId": run_id, "sessionKey": key, "seq": seq, "state": "delta",
                                       "deltaText": cut[end - step:], "message": {
                                           "role": "assistant", "content": [{"type": "text", "text": cut}],
                                           "timestamp": int(time.time() * 1000)}})
                await asyncio.sleep(0)  # the probe and the rest of the loop get their turn
            bridge.chatEvent.emit({"runId": run_id, "sessionKey": key, "seq": seq + 1, "state": "final",
                                   "stopReason": "stop", "message": {"role": "assistant", "content": [
                                       {"type": "text", "text": text}], "timestamp": int(time.time() * 1000)}})
            delivered_s = time.perf_counter() - t0
            await drawn(window)
            total_s = time.perf_counter() - t0
            await asyncio.sleep(0.1)
            direct_lags = probe.stop()
            direct = {"deltas": seq, "reply_chars": len(text), "delivered_s": round(delivered_s, 3),
                      "wall_s": round(total_s, 3),
                      "render_total_ms": round(sum(render) * 1000, 1),
                      "render_per_delta_p99_ms": round(pct(render, 0.99) * 1000, 2), **lag_summary(direct_lags)}
            window.close()
            await bridge.close()
            await services.stop()
    return {"through_gateway": gateway, "direct_2000_deltas": direct}


def run_streaming(chunks: int, synthetic_chars: int) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["molt-desktop-bench"])
    app.setQuitOnLastWindowClosed(False)  # closing the window must not stop the loop
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(streaming(chunks, synthetic_chars))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="app starts to measure")
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--chars", type=int, default=80_000, help="length of the direct-delivery reply")
    parser.add_argument("--skip-start", action="store_true", help="only the streaming part")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if not args.skip_start:
        results["app"] = app_runs(args.runs)
    results["streaming"] = run_streaming(args.chunks, args.chars)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    if "app" in results:
        a = results["app"]
        print(f"cold start to tray icon: {', '.join(f'{s:.2f}' for s in a['cold_start_to_tray_s'])} s "
              f"(median {statistics.median(a['cold_start_to_tray_s']):.2f} s; target < 1.5 s)")
        print(f"idle RSS in the tray:    {', '.join(f'{m:.1f}' for m in a['idle_rss_mb'])} MB (target < 150 MB)")
        print(f"idle RSS, chat open:     {', '.join(f'{m:.1f}' for m in a['idle_rss_chat_open_mb'])} MB")
        print(f"quit (SIGTERM to exit):  {', '.join(f'{s:.2f}' for s in a['quit_s'])} s")
    g, d = results["streaming"]["through_gateway"], results["streaming"]["direct_2000_deltas"]
    print(f"{g['chunks']}-chunk reply via the gateway: {g['stream_s']} s (all drawn at {g['drawn_s']} s), "
          f"{g['events_rendered']} chat events, handlers {g['render_total_ms']} ms; lag p50 {g['p50_ms']} / p99 {g['p99_ms']} / max {g['max_ms']} ms "
          f"(target p99 < 50 ms)")
    print(f"{d['deltas']} deltas delivered directly ({d['reply_chars']} chars): delivered in {d['delivered_s']} s, "
          f"all drawn at {d['wall_s']} s, handlers {d['render_total_ms']} ms (p99 per delta {d['render_per_delta_p99_ms']} ms); lag p50 {d['p50_ms']} / "
          f"p99 {d['p99_ms']} / max {d['max_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
