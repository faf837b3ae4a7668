"""The monitor inside the real gateway services: provider error rates and spend come from real runs
(the fake model failing or charging), the failover alert from a real gateway switch, and the local
gateway check from its real `/readyz` and `health`."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from molt_desktop.app import GatewayOptions, Services
from molt_desktop.monitor.model import AlertNotice
from tests.fakes.common import FakeModelServer
from tests.gateway.conftest import TOKEN, write_config


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def configure(state: Path, fake: FakeModelServer, **extra: Any) -> None:
    config = write_config(state, fake)
    config["alerts"] = {"desktop": {"enabled": False}, "thresholds": {"checkIntervalSeconds": 0.2},
                        "rules": {r: {"enabled": False} for r in ("cpu_warning", "cpu_critical",
                                                                   "memory_critical", "disk_low")}}
    config["failover"] = {"probeIntervalSeconds": 0.3, "failAfter": 2, "recoverAfter": 2}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    (state / "moltbot.json").write_text(json.dumps(config), encoding="utf-8")


async def chat(services: Services, text: str) -> dict[str, Any]:
    assert services.pool is not None
    result = await services.pool.chat(f"agent:main:{uuid.uuid4().hex[:8]}", text)
    return {"state": result.state, "error": result.error}


async def test_a_failing_provider_raises_provider_failing(state_home: Path, fake_model: FakeModelServer) -> None:
    configure(state_home, fake_model, alerts={"rules": {"provider_failing": {"forSeconds": 0}}})
    fake_model.behavior.fail_status, fake_model.behavior.fail_times = 401, -1
    services = Services(state_home, GatewayOptions(port=0), with_client=True)
    await services.start()
    notices: list[AlertNotice] = []
    try:
        assert services.monitor is not None
        services.monitor.manager.subscribe(notices.append)
        for index in range(5):
            assert (await chat(services, f"hello {index}"))["state"] == "error"
        await until(lambda: any(n.alert.rule == "provider_failing" and n.kind == "fire" for n in notices), 10,
                    "provider_failing to fire")
        alert = next(a for a in services.monitor.manager.firing() if a.rule == "provider_failing")
        assert alert.subject == "fake" and alert.value == 1.0
    finally:
        await services.stop()


async def test_spend_reaching_the_daily_budget(state_home: Path, fake_model: FakeModelServer) -> None:
    configure(state_home, fake_model)
    config = json.loads((state_home / "moltbot.json").read_text())
    provider = config["models"]["providers"]["fake"]
    provider["models"][0]["cost"] = {"input": 1000, "output": 1000, "cacheRead": 0, "cacheWrite": 0}
    provider["budget"] = {"daily": 0.01}
    (state_home / "moltbot.json").write_text(json.dumps(config), encoding="utf-8")
    fake_model.behavior.usage_input, fake_model.behavior.usage_output = 10, 10  # $0.02 a reply
    services = Services(state_home, GatewayOptions(port=0), with_client=True)
    await services.start()
    try:
        assert services.monitor is not None
        assert (await chat(services, "what does it cost?"))["state"] == "final"
        await until(lambda: any(a.rule == "budget_reached" for a in services.monitor.manager.firing()), 10,
                    "budget_reached to fire")
        spend = json.loads((state_home / "monitor" / "spend.json").read_text())
        assert spend["providers"]["fake"] >= 0.02
    finally:
        await services.stop()


async def test_the_failover_alert_follows_a_gateway_switch(state_home: Path, tmp_path: Path,
                                                          fake_model: FakeModelServer) -> None:
    remote_state = tmp_path / "remote"
    remote_state.mkdir()
    write_config(remote_state, fake_model)
    remote = Services(remote_state, GatewayOptions(port=0))
    await remote.start()
    configure(state_home, fake_model, remotes=[{"id": "server", "url": f"ws://127.0.0.1:{remote.port}",
                                                "token": TOKEN}])
    local = Services(state_home, GatewayOptions(port=0), with_client=True)
    await local.start()
    try:
        assert local.pool is not None and local.monitor is not None and local.gateway is not None
        await until(lambda: [h.state for h in local.pool.endpoint_health()] == ["up", "up"], 20, "both up")
        await local.gateway.stop()  # the local gateway goes away; the app itself keeps running
        await until(lambda: any(a.rule == "failover" for a in local.monitor.manager.firing()), 20,
                    "the failover alert")
        failover = next(a for a in local.monitor.manager.firing() if a.rule == "failover")
        assert failover.subject == "server" and "local" in failover.detail
        await until(lambda: any(a.rule == "gateway_down" for a in local.monitor.manager.alerts()), 20,
                    "the local gateway seen down")
    finally:
        await local.stop()
        await remote.stop()
