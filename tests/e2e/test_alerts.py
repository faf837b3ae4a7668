"""End to end: a configured remote gateway stops; exactly one "remote down" alert arrives through
every enabled channel after its "for" duration, and exactly one resolve after it comes back.

The app's services run as the desktop app builds them (gateway, endpoint pool with the remote,
monitor with the desktop channel); the remote is a second real gateway. The channels are real
receivers: an SMTP server (aiosmtpd, a local relay), a DingTalk-style webhook receiver that checks
the signature, and a freedesktop notification server on a private D-Bus session bus.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.config.secrets import set_secret
from tests.gateway.conftest import TOKEN, write_config
from tests.monitor.dbus_notifications import NotificationServer, notification_server, session_bus  # noqa: F401
from tests.monitor.smtp_server import SmtpServer, smtp_server
from tests.monitor.webhook_receiver import WebhookReceiver

WEBHOOK_SECRET = "SEC-e2e-dingtalk-signing-secret-0123456789"
FOR_SECONDS = 1.5
QUIET_RULES = ("cpu_warning", "cpu_critical", "memory_critical", "disk_low", "provider_failing", "budget_reached")

pytestmark = pytest.mark.slow


@dataclass
class Channels:
    smtp: SmtpServer
    webhook: WebhookReceiver
    desktop: NotificationServer

    def mails(self) -> list[Any]:
        with self.smtp.record.lock:
            raw = [m.content for m in self.smtp.record.messages]
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]

    def mail_subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.mails()]

    def posts(self) -> list[dict[str, Any]]:
        return [r.body for r in self.webhook.requests if r.verdict == "ok"]

    def notifications(self) -> list[str]:
        return [c.summary for c in self.desktop.calls]

    def counts(self) -> tuple[int, int, int]:
        return len(self.mail_subjects()), len(self.posts()), len(self.notifications())


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def channels(notification_server: NotificationServer,  # noqa: F811 - a fixture
                   monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Channels]:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", notification_server.address)
    receiver = WebhookReceiver(dingtalk_secret=WEBHOOK_SECRET)
    await receiver.start()
    try:
        with smtp_server() as smtp:
            yield Channels(smtp, receiver, notification_server)
    finally:
        await receiver.stop()


async def test_a_stopped_remote_raises_one_alert_and_one_resolve_per_channel(channels: Channels,
                                                                             tmp_path: Path) -> None:
    remote_state, local_state = tmp_path / "remote", tmp_path / "local"
    remote_state.mkdir()
    local_state.mkdir()
    write_config(remote_state, None)
    remote = Services(remote_state, GatewayOptions(port=0))
    await remote.start()
    port = remote.port
    set_secret("alerts.webhook", WEBHOOK_SECRET)
    config = write_config(local_state, None)
    config["remotes"] = [{"id": "server", "url": f"ws://127.0.0.1:{port}", "token": TOKEN}]
    config["failover"] = {"probeIntervalSeconds": 0.3, "failAfter": 2, "recoverAfter": 2}
    config["alerts"] = {
        "desktop": {"enabled": True},
        "email": {"enabled": True, "smtp": channels.smtp.address, "from": "molt@example.com",
                  "to": ["ops@example.com"]},
        "webhook": {"enabled": True, "kind": "dingtalk", "url": channels.webhook.url("dingtalk"),
                    "secret": "keyring:alerts.webhook"},
        "rules": {"remote_down": {"forSeconds": FOR_SECONDS}, **{r: {"enabled": False} for r in QUIET_RULES}},
    }
    (local_state / "moltbot.json").write_text(json.dumps(config), encoding="utf-8")
    local = Services(local_state, GatewayOptions(port=0), with_client=True)
    await local.start()
    try:
        assert local.pool is not None and local.monitor is not None
        await until(lambda: [h.state for h in local.pool.endpoint_health()] == ["up", "up"], 20, "both gateways up")
        assert channels.counts() == (0, 0, 0)

        stopped = asyncio.get_running_loop().time()
        await remote.stop()
        await until(lambda: channels.counts() == (1, 1, 1), 30, "one alert in every channel")
        fired_after = asyncio.get_running_loop().time() - stopped
        assert fired_after >= FOR_SECONDS
        # Nothing more while it stays down (probes keep failing every 0.3 s).
        await asyncio.sleep(2.0)
        await local.monitor.manager.flush()
        assert channels.counts() == (1, 1, 1)
        assert "server" in channels.mail_subjects()[0] and "FIRING" in channels.mail_subjects()[0]
        assert "server" in channels.notifications()[0]
        assert "server" in json.dumps(channels.posts()[0], ensure_ascii=False)
        assert [a.rule for a in local.monitor.manager.firing()] == ["remote_down"]

        remote = Services(remote_state, GatewayOptions(port=port))
        await remote.start()
        await until(lambda: channels.counts() == (2, 2, 2), 30, "one resolve in every channel")
        await asyncio.sleep(1.0)
        await local.monitor.manager.flush()
        assert channels.counts() == (2, 2, 2)
        assert "RESOLVED" in channels.mail_subjects()[1]
        assert local.monitor.manager.firing() == []
        history = [(r["event"], r["rule"]) for r in local.monitor.manager.history()]
        assert history.count(("fire", "remote_down")) == 1 and history.count(("resolve", "remote_down")) == 1
    finally:
        await local.stop()
        await remote.stop()


async def test_broken_channels_are_reported_and_the_app_keeps_working(session_bus: str,  # noqa: F811
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """SMTP down, a webhook answering 500, no notification daemon: each is a visible sink failure."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)  # a bus without a notification server
    receiver = WebhookReceiver()
    await receiver.start()
    receiver.fail_next(500, times=100)
    state = tmp_path / "local"
    state.mkdir()
    config = write_config(state, None)
    config["alerts"] = {
        "desktop": {"enabled": True},
        "email": {"enabled": True, "smtp": "127.0.0.1:9", "from": "molt@example.com", "to": ["ops@example.com"]},
        "webhook": {"enabled": True, "kind": "json", "url": receiver.url("json")},
    }
    (state / "moltbot.json").write_text(json.dumps(config), encoding="utf-8")
    services = Services(state, GatewayOptions(port=0), with_client=True)
    await services.start()
    try:
        assert services.monitor is not None and services.pool is not None
        for sink in services.monitor.manager.sinks:
            if sink.name == "webhook":
                sink.retry_delays = (0.05, 0.05)  # type: ignore[attr-defined] - the retries, quickly
        outcome = await services.monitor.manager.send_test()
        assert set(outcome) == {"desktop", "email", "webhook"}
        assert all(error for error in outcome.values()), outcome
        status = {s.name: s for s in services.monitor.manager.sink_status()}
        assert all(status[name].ok is False and status[name].last_error for name in outcome)
        assert "500" in (status["webhook"].last_error or "")
        # The app still answers.
        assert (await services.pool.call("health"))["ok"] is True
        events = [r["event"] for r in services.monitor.manager.history()]
        assert events.count("sink_error") >= 3
    finally:
        await services.stop()
        await receiver.stop()
