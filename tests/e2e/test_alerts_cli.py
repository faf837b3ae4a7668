"""`molt-desktop alerts test` and `alerts list` as a person runs them, against real receivers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.conftest import CliResult, clean_env, run_cli, write_config
from tests.monitor.smtp_server import smtp_server
from tests.monitor.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow


def alerts_config(home: Path, smtp: str | None, webhook: str | None) -> None:
    alerts: dict[str, object] = {"desktop": {"enabled": False}}
    alerts["email"] = {"enabled": smtp is not None, "smtp": smtp or "127.0.0.1:9", "from": "molt@example.com",
                       "to": ["ops@example.com"]}
    alerts["webhook"] = {"enabled": webhook is not None, "kind": "json", "url": webhook or "http://127.0.0.1:9/"}
    write_config(home, extra={"alerts": alerts})


def cli(home: Path, *args: str) -> CliResult:
    env = clean_env(home)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # a server: no desktop session
    return run_cli(home, "alerts", *args, env=env)


async def test_alerts_test_reports_each_channel(home: Path) -> None:
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        with smtp_server() as smtp:
            alerts_config(home, smtp.address, receiver.url("json"))
            result = await asyncio.to_thread(cli, home, "test")
            assert result.code == 0, result.output
            assert "email: delivered" in result.stdout and "webhook: delivered" in result.stdout
            assert "desktop" not in result.stdout
            assert len(smtp.record.messages) == 1 and len(receiver.requests) == 1
            assert receiver.requests[0].body["kind"] == "test"

            only = await asyncio.to_thread(cli, home, "test", "--channel", "webhook", "--json")
            assert only.code == 0, only.output
            assert json.loads(only.stdout)["channels"] == {
                "webhook": {"delivered": True, "enabled": True, "error": None}}
            assert len(smtp.record.messages) == 1 and len(receiver.requests) == 2
    finally:
        await receiver.stop()


async def test_a_failing_channel_fails_the_command_and_says_why(home: Path) -> None:
    alerts_config(home, "127.0.0.1:9", None)  # nothing listens on port 9
    result = await asyncio.to_thread(cli, home, "test")
    assert result.code == 1
    assert "email: failed:" in result.stdout and "127.0.0.1:9" in result.stdout
    assert "webhook: disabled" in result.stdout

    listing = await asyncio.to_thread(cli, home, "list", "--json")
    assert listing.code == 0
    data = json.loads(listing.stdout)
    assert data["firing"] == []
    assert [r["event"] for r in data["history"]][-2:] == ["sink_error", "test"] or \
        {"sink_error", "test"} <= {r["event"] for r in data["history"]}


async def test_no_channel_enabled_is_a_failure_with_a_hint(home: Path) -> None:
    alerts_config(home, None, None)
    result = await asyncio.to_thread(cli, home, "test")
    assert result.code == 1
    assert "No alert channel is enabled" in result.stderr
