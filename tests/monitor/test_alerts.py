"""The alert manager: pending -> firing -> resolved, one notice each, repeats, flapping, sinks that
fail or hang, the history file, test alerts, and the texts in the UI language.

Sinks here are a recording stand-in (the real ones have their own tests against real receivers);
the clock is a hand-driven one, so durations are exact and no test waits.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from molt_desktop import i18n
from molt_desktop.config.schema import MoltConfig
from molt_desktop.monitor.alerts import (
    DISABLED,
    HOLD_DOWN,
    REFIRE_WINDOW,
    AlertManager,
    SinkStatus,
)
from molt_desktop.monitor.model import AlertNotice, Observation, SinkError
from molt_desktop.monitor.rules import Rule, default_rules

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSink:
    """Records what it is sent; fails with `error`, or waits for `gate` before it answers."""

    def __init__(self, name: str, *, enabled: bool = True, error: str | None = None,
                 gate: asyncio.Event | None = None) -> None:
        self.name = name
        self._enabled = enabled
        self.error = error
        self.gate = gate
        self.notices: list[AlertNotice] = []

    @property
    def enabled(self) -> bool:
        return self._enabled

    async def send(self, notice: AlertNotice) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise SinkError(self.error)
        self.notices.append(notice)

    def kinds(self) -> list[str]:
        return [n.kind for n in self.notices]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    saved = (i18n._choice, i18n._language)
    i18n.set_language("en")
    yield
    i18n._choice, i18n._language = saved


@pytest.fixture
def clock() -> Clock:
    return Clock()


def rules(config: dict[str, object] | None = None) -> list[Rule]:
    return default_rules(MoltConfig.model_validate(config or {}))


def remote(ok: bool, detail: str = "") -> Observation:
    return Observation("remote.server", "server", ok=ok, value=None if not ok else 12.0, detail=detail)


def manager_with(tmp_path: Path, clock: Clock, *sinks: RecordingSink, repeat_interval: float = 3600.0,
                 history_limit: int = 2000, sink_timeout: float = 30.0) -> AlertManager:
    return AlertManager(rules(), sinks, history_path=tmp_path / "alerts.jsonl", host="testhost", clock=clock,
                        repeat_interval=repeat_interval, history_limit=history_limit, sink_timeout=sink_timeout)


def history_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


async def test_one_fire_after_the_for_duration_and_one_resolve(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, sink)
    seen: list[AlertNotice] = []
    unsubscribe = manager.subscribe(seen.append)

    manager.observe(remote(False, "connection refused"))
    [pending] = manager.alerts()
    assert (pending.key, pending.state, pending.severity) == ("remote_down:server", "pending", "warning")
    clock.advance(59)
    manager.tick()
    manager.observe(remote(False, "connection refused"))
    assert manager.firing() == [] and seen == []
    clock.advance(1)
    manager.tick()
    [firing] = manager.firing()
    assert manager.worst() == firing
    assert (firing.state, firing.fired_at, firing.since) == ("firing", START + 60, START)
    for _ in range(5):
        clock.advance(10)
        manager.observe(remote(False, "connection refused"))
        manager.tick()

    await manager.flush()
    assert sink.kinds() == ["fire"]
    fire = sink.notices[0]
    assert fire.host == "testhost"
    assert fire.alert.title == "Remote gateway “server” is down"
    body = fire.alert.body
    assert "cannot be reached" in body
    assert "Since: " in body and "(1 min ago)" in body
    assert "Last error: connection refused" in body
    assert "`molt-desktop gateway` or `openclaw gateway`" in body and "Settings > Remote gateways" in body

    clock.advance(70)
    manager.observe(remote(True))
    manager.observe(remote(True))
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "resolve"]
    resolve = sink.notices[1].alert
    assert resolve.state == "resolved" and resolve.resolved_at == START + 180
    assert resolve.title == "Remote gateway “server” is back up"
    assert "The problem lasted 3 min" in resolve.body
    assert "The last error was: connection refused" in resolve.body
    assert manager.alerts() == [] and manager.worst() is None
    assert [n.kind for n in seen] == ["fire", "resolve"]

    unsubscribe()
    manager.observe(remote(False))
    clock.advance(600)
    manager.tick()
    assert [n.kind for n in seen] == ["fire", "resolve"]

    records = [json.loads(line) for line in history_lines(tmp_path / "alerts.jsonl")]
    assert [r["event"] for r in records] == ["fire", "resolve", "fire"]
    assert records[0] == {"ts": START + 60, "event": "fire", "key": "remote_down:server", "rule": "remote_down",
                          "subject": "server", "severity": "warning", "title": "Remote gateway “server” is down",
                          "detail": "connection refused"}
    assert manager.history(limit=2) == records[1:]
    assert stat.S_IMODE(os.stat(tmp_path / "alerts.jsonl").st_mode) == 0o600
    await manager.stop()


async def test_a_pending_alert_that_clears_sends_nothing(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, sink)
    manager.observe(Observation("system.cpu", "system", value=0.97))
    assert {a.key for a in manager.alerts()} == {"cpu_warning:system", "cpu_critical:system"}
    clock.advance(119)
    manager.tick()
    manager.observe(Observation("system.cpu", "system", value=0.5))
    clock.advance(1000)
    manager.tick()
    await manager.flush()
    assert manager.alerts() == [] and sink.notices == []
    assert manager.history() == []


async def test_no_repeat_inside_the_interval_and_one_after_it(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("webhook")
    manager = manager_with(tmp_path, clock, sink, repeat_interval=3600.0)
    manager.observe(Observation("system.disk", "system", value=0.99))  # disk_low fires at once
    for _ in range(3599):
        clock.advance(1)
        manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire"]
    clock.advance(1)
    manager.tick()
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "repeat"]
    assert sink.notices[1].alert.title == "Still ongoing: Disk space is low (99% used)"
    assert "The disk that holds the molt-desktop state directory is 99% full" in sink.notices[1].alert.body
    assert "(1 h 0 min ago)" in sink.notices[1].alert.body
    clock.advance(3599)
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "repeat"]

    manager.repeat_interval = 0  # never
    clock.advance(100_000)
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "repeat"]
    await manager.stop()


async def test_flapping_is_held_back(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, sink)
    manager.observe(remote(False))
    clock.advance(60)
    manager.tick()
    clock.advance(5)
    manager.observe(remote(True))
    # it comes back at once: its 60 s are not enough after a resolve, it needs 60 s + the hold-down
    clock.advance(5)
    manager.observe(remote(False))
    clock.advance(60 + HOLD_DOWN - 1)
    manager.tick()
    assert [a.state for a in manager.alerts()] == ["pending"]
    # toggling every 30 s never fires again
    for _ in range(3):
        manager.observe(remote(True))
        clock.advance(30)
        manager.observe(remote(False))
        clock.advance(30)
        manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "resolve"]
    clock.advance(60 + HOLD_DOWN - 30 - 1)
    manager.tick()
    assert [a.state for a in manager.alerts()] == ["pending"]
    clock.advance(1)  # now it held long enough without a break
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "resolve", "fire"]

    # long after a resolve, the plain "for" duration applies again
    manager.observe(remote(True))
    clock.advance(REFIRE_WINDOW)
    manager.tick()
    manager.observe(remote(False))
    clock.advance(60)
    manager.tick()
    await manager.flush()
    assert sink.kinds() == ["fire", "resolve", "fire", "resolve", "fire"]
    await manager.stop()


async def test_a_failing_sink_is_recorded_while_the_others_deliver(
        tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    good = RecordingSink("desktop")
    bad = RecordingSink("email", error="The SMTP server smtp.example.com:587 refused the connection.")
    manager = manager_with(tmp_path, clock, good, bad)
    statuses: list[SinkStatus] = []
    manager.subscribe_sinks(statuses.append)
    assert manager.sink_status() == [SinkStatus("desktop", True), SinkStatus("email", True)]

    manager.observe(Observation("gateway.local", "local", ok=False, detail="readyz: 503"))
    clock.advance(30)
    manager.tick()
    await manager.flush()
    assert good.kinds() == ["fire"]
    assert good.notices[0].alert.title == "The local gateway is down"
    desktop, email = manager.sink_status()
    assert desktop == SinkStatus("desktop", True, True, None, START + 30, 0)
    assert email == SinkStatus("email", True, False, "The SMTP server smtp.example.com:587 refused the connection.",
                               START + 30, 1)
    assert "alert sink email could not deliver" in caplog.text and "refused the connection" in caplog.text
    manager.observe(Observation("gateway.local", "local", ok=True))
    await manager.flush()
    assert good.kinds() == ["fire", "resolve"]
    assert manager.sink_status()[1].failures == 2
    bad.error = None
    clock.advance(10)
    await manager.send_test()
    assert manager.sink_status()[1] == SinkStatus("email", True, True, None, START + 40, 0)
    assert [s.name for s in statuses] == ["desktop", "email"] * 3

    errors = [r for r in manager.history() if r["event"] == "sink_error"]
    assert len(errors) == 2
    assert errors[0]["sink"] == "email" and errors[0]["key"] == "gateway_down:local"
    assert errors[0]["detail"] == "The SMTP server smtp.example.com:587 refused the connection."
    await manager.stop()


async def test_a_hung_sink_times_out_without_blocking_observe(tmp_path: Path, clock: Clock) -> None:
    never = asyncio.Event()
    hung = RecordingSink("webhook", gate=never)
    good = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, hung, good, sink_timeout=0.05)
    manager.observe(Observation("system.disk", "system", value=0.99))
    manager.observe(Observation("system.disk", "system", value=0.5))
    # observe has returned, both notices are made, nothing was delivered yet: deliveries are tasks
    assert [r["event"] for r in manager.history()] == ["fire", "resolve"]
    assert good.notices == [] and manager.sink_status()[0].ok is None
    await manager.flush()
    assert good.kinds() == ["fire", "resolve"] and hung.notices == []
    status = manager.sink_status()[0]
    assert (status.ok, status.failures) == (False, 2)
    assert status.last_error == "The webhook channel did not deliver within 0.05 seconds."
    await manager.stop()


async def test_each_sink_gets_its_notices_in_order(tmp_path: Path, clock: Clock) -> None:
    gate = asyncio.Event()
    slow = RecordingSink("email", gate=gate)
    manager = manager_with(tmp_path, clock, slow)
    manager.observe(Observation("system.disk", "system", value=0.99))
    await asyncio.sleep(0)  # the fire delivery is now waiting in the sink
    manager.observe(Observation("system.disk", "system", value=0.5))
    gate.set()
    await manager.flush()
    assert slow.kinds() == ["fire", "resolve"]
    await manager.stop()


async def test_history_is_bounded_and_a_torn_line_is_skipped(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_text('{"ts": 1, "event": "fire", "key": "disk_low:system"}\n{"ts": 2, "event": "res', encoding="utf-8")
    manager = manager_with(tmp_path, clock, history_limit=5)
    assert manager.history() == [{"ts": 1, "event": "fire", "key": "disk_low:system"}]
    for value in (0.99, 0.5, 0.99, 0.5, 0.99, 0.5):
        clock.advance(REFIRE_WINDOW)  # far apart: no flapping hold-down
        manager.observe(Observation("system.disk", "system", value=value))
    lines = history_lines(path)
    assert len(lines) == 5
    records = [json.loads(line) for line in lines]  # the torn line was dropped with the old ones
    assert [r["event"] for r in records] == ["resolve", "fire", "resolve", "fire", "resolve"]
    assert records[-1]["ts"] == START + 6 * REFIRE_WINDOW
    assert manager.history(limit=3) == records[-3:]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    # a crash cut the last line: the next record is not glued to it
    with path.open("a", encoding="utf-8") as f:
        f.write('{"ts": 99, "event": "fi')
    later = manager_with(tmp_path, clock, history_limit=50)
    clock.advance(1)
    later.observe(Observation("system.disk", "system", value=0.99))
    assert [r["event"] for r in later.history()] == ["resolve", "fire", "resolve", "fire", "resolve", "fire"]
    assert later.history()[-1]["ts"] == START + 6 * REFIRE_WINDOW + 1


async def test_a_full_disk_keeps_the_manager_working(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    sink = RecordingSink("desktop")
    seen: list[AlertNotice] = []
    manager = AlertManager(rules(), [sink], history_path=Path("/dev/full"), host="testhost", clock=clock)
    manager.subscribe(seen.append)
    manager.observe(Observation("system.disk", "system", value=0.999))
    manager.observe(Observation("system.disk", "system", value=0.2))
    await manager.flush()
    assert sink.kinds() == ["fire", "resolve"] and [n.kind for n in seen] == ["fire", "resolve"]
    assert "alert history /dev/full not written" in caplog.text
    assert manager.history() == []
    await manager.stop()


async def test_send_test_per_channel(tmp_path: Path, clock: Clock) -> None:
    desktop = RecordingSink("desktop")
    email = RecordingSink("email", enabled=False)
    webhook = RecordingSink("webhook", error="The webhook answered HTTP 500.")
    manager = manager_with(tmp_path, clock, desktop, email, webhook)
    seen: list[AlertNotice] = []
    manager.subscribe(seen.append)

    assert await manager.send_test() == {"desktop": None, "webhook": "The webhook answered HTTP 500."}
    [notice] = desktop.notices
    assert (notice.kind, notice.host, notice.alert.severity) == ("test", "testhost", "info")
    assert notice.alert.title == "Test alert from molt-desktop on testhost"
    assert "If you can read this, alerts reach you through this channel." in notice.alert.body
    assert await manager.send_test("email") == {"email": DISABLED}
    assert email.notices == []
    assert await manager.send_test("desktop") == {"desktop": None}
    assert len(desktop.notices) == 2
    assert await manager.send_test("sms") == {"sms": "There is no sms channel here."}
    assert [n.kind for n in seen] == ["test", "test"]
    events = [(r["event"], r.get("channels"), r.get("sink")) for r in manager.history()]
    assert events == [("test", ["desktop", "webhook"], None), ("sink_error", None, "webhook"),
                      ("test", ["desktop"], None)]
    assert manager.firing() == []


async def test_callbacks_that_raise_are_logged(tmp_path: Path, clock: Clock,
                                               caplog: pytest.LogCaptureFixture) -> None:
    def broken(notice: AlertNotice) -> None:
        raise RuntimeError("view is gone")

    seen: list[AlertNotice] = []
    manager = manager_with(tmp_path, clock)
    manager.subscribe(broken)
    manager.subscribe(seen.append)
    manager.observe(Observation("system.disk", "system", value=0.99))
    assert [n.kind for n in seen] == ["fire"]
    assert "an alert subscriber failed on disk_low:system" in caplog.text


async def test_overrides_from_config_and_worst(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    config = {"alerts": {"rules": {"remote_down": {"forSeconds": 0, "severity": "critical"},
                                   "disk_low": {"enabled": False}}}}
    manager = AlertManager(rules(config), [sink], history_path=None, clock=clock)
    manager.observe(Observation("system.disk", "system", value=0.99))
    manager.observe(Observation("system.cpu", "system", value=0.85))
    clock.advance(300)
    manager.tick()
    manager.observe(remote(False, "handshake failed"))
    await manager.flush()
    assert [(n.alert.key, n.alert.severity) for n in sink.notices] == [
        ("cpu_warning:system", "warning"), ("remote_down:server", "critical")]
    worst = manager.worst()
    assert worst is not None and worst.key == "remote_down:server"
    assert [a.key for a in manager.firing()] == ["remote_down:server", "cpu_warning:system"]

    manager.set_rules(rules({"alerts": {"rules": {"remote_down": {"enabled": False}}}}))
    assert [a.key for a in manager.firing()] == ["cpu_warning:system"]
    await manager.stop()


async def test_failover_follows_the_gateway_in_use(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, sink)
    manager.observe(Observation("failover", "server", ok=False, detail="local gateway down: switched to server"))
    clock.advance(30)
    manager.observe(Observation("failover", "backup", ok=False, detail="server down: switched to backup"))
    clock.advance(30)
    manager.observe(Observation("failover", "local", ok=True, detail="back on the local gateway"))
    await manager.flush()
    assert [(n.kind, n.alert.subject) for n in sink.notices] == [
        ("fire", "server"), ("resolve", "server"), ("fire", "backup"), ("resolve", "backup")]
    assert sink.notices[0].alert.title == "Switched to remote gateway “server”"
    assert "Details: local gateway down: switched to server" in sink.notices[0].alert.body
    assert sink.notices[3].alert.title == "No longer using remote gateway “backup”"
    assert manager.alerts() == []
    await manager.stop()


async def test_titles_of_every_rule(tmp_path: Path, clock: Clock) -> None:
    seen: list[AlertNotice] = []
    config = {"alerts": {"rules": {rule: {"forSeconds": 0} for rule in (
        "gateway_down", "remote_down", "provider_failing", "cpu_warning", "cpu_critical", "memory_critical")}}}
    manager = AlertManager(rules(config), [], history_path=None, clock=clock)
    manager.subscribe(seen.append)
    for obs in (
        Observation("provider.openai", "openai", value=0.25, detail="HTTP 401", data={"runs": 8}),
        Observation("system.cpu", "system", value=0.97),
        Observation("system.memory", "system", value=0.93),
        Observation("sync", "sync", value=3600, data={"interval": 300}),
        Observation("spend.openai", "openai", value=5.5, data={"budget": 5}),
    ):
        manager.observe(obs)
    assert [n.alert.title for n in seen] == [
        "Model provider “openai” is failing (25% of calls)",
        "CPU use is high (97%)",
        "CPU use is critically high (97%)",
        "Memory use is critically high (93%)",
        "Sync has not succeeded for 1 h 0 min",
        "Daily budget of “openai” reached ($5.50 of $5.00)",
    ]
    assert "Settings > Providers" in seen[0].alert.body and "Last error: HTTP 401" in seen[0].alert.body
    assert "agents.defaults.maxConcurrent" in seen[1].alert.body
    assert "models.providers.openai.budget.daily" in seen[5].alert.body
    manager.observe(Observation("system.cpu", "system", value=0.3))
    assert [n.alert.title for n in seen[6:]] == ["CPU use is back to normal (30%)",
                                                 "CPU use is no longer critically high (30%)"]


async def test_texts_in_chinese(tmp_path: Path, clock: Clock) -> None:
    sink = RecordingSink("desktop")
    manager = manager_with(tmp_path, clock, sink)
    i18n.set_language("zh_CN")
    manager.observe(remote(False, "connection refused"))
    clock.advance(125)
    manager.tick()
    manager.observe(remote(True))
    await manager.flush()
    fire, resolve = (n.alert for n in sink.notices)
    assert fire.title == "远程网关“server”无法连接"
    assert "最近的错误：connection refused" in fire.body
    assert "（2 分 5 秒前）" in fire.body
    assert resolve.title == "远程网关“server”已恢复"
    await manager.stop()
