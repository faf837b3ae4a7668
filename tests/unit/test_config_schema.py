"""The config schema: defaults, descriptions, OpenClaw compatibility and value checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import json5
import pytest
from pydantic import BaseModel, ValidationError

from molt_desktop.config import schema
from molt_desktop.config.schema import MoltConfig

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config"


def _models(root: type[BaseModel]) -> set[type[BaseModel]]:
    """Every model class reachable from `root` through field annotations."""
    seen: set[type[BaseModel]] = set()
    pending = [root]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            stack: list[Any] = [info.annotation]
            while stack:
                tp = stack.pop()
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    pending.append(tp)
                stack.extend(getattr(tp, "__args__", ()))
    return seen


def test_defaults_of_the_keys_other_parts_read() -> None:
    config = MoltConfig()
    assert config.gateway.port == 18789
    assert config.gateway.bind == "loopback"
    assert config.gateway.auth.mode == "token"
    assert config.gateway.auth.token is None and config.gateway.auth.password is None
    assert config.gateway.tls.enabled is False
    assert config.gateway.http.endpoints.chatCompletions.enabled is True
    assert config.gateway.maxPayload == 26_214_400
    assert config.agents.defaults.model.primary is None
    assert config.agents.defaults.model.fallbacks == []
    assert config.agents.defaults.maxConcurrent == 4
    assert config.agents.defaults.timeoutSeconds == 600
    assert config.models.providers == {}
    assert config.session.dmScope == "main"
    assert config.session.reset.mode == "daily" and config.session.reset.atHour == 4
    assert config.remotes == []
    assert (config.failover.probeIntervalSeconds, config.failover.failAfter, config.failover.recoverAfter) == (5, 2, 3)
    assert config.failover.switchBack is True
    assert config.sync.enabled is False and config.sync.backend == "sftp" and config.sync.intervalSeconds == 600
    assert config.alerts.desktop.enabled is True and config.alerts.email.enabled is False
    assert config.alerts.thresholds.cpuCritical == 0.95
    assert config.ui.language == "auto" and config.ui.closeToTray is True


def test_every_field_has_a_description() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in _models(MoltConfig)
        for name, info in model.model_fields.items()
        if not (info.description and info.description.strip())
    ]
    assert missing == []
    assert len(_models(MoltConfig)) >= 25


def test_real_openclaw_json_validates_and_round_trips_unchanged() -> None:
    parsed = json.loads((FIXTURES / "openclaw-2026.1.29.json").read_text())
    config = MoltConfig.model_validate(parsed)
    assert config.model_dump(mode="json", by_alias=True, exclude_unset=True) == parsed
    # unknown OpenClaw keys stay available
    assert config.model_extra is not None and config.model_extra["meta"]["lastTouchedVersion"] == "2026.1.29"
    assert config.gateway.model_extra == {"mode": "local"}
    assert config.agents.defaults.model_extra == {"subagents": {"maxConcurrent": 8}}
    assert config.gateway.port == 18798
    provider = config.provider("fake")
    assert provider is not None and provider.api == "openai-completions"
    model = provider.models[0]
    assert (model.id, model.contextWindow, model.maxTokens, model.input) == ("fake-1", 32000, 2048, ["text"])
    assert config.session.reset.mode == "idle" and config.session.reset.idleMinutes == 240


def test_to_dict_fills_defaults_and_keeps_unknown_keys() -> None:
    parsed = json.loads((FIXTURES / "openclaw-2026.1.29.json").read_text())
    data = MoltConfig.model_validate(parsed).to_dict()
    assert data["gateway"]["maxPayload"] == 26_214_400
    assert data["messages"] == {"ackReactionScope": "group-mentions"}
    assert data["ui"]["language"] == "auto"
    assert "token" not in MoltConfig().to_dict()["gateway"]["auth"]  # None values are left out
    json.dumps(data)  # plain JSON


def test_the_design_example_validates() -> None:
    parsed = json5.loads((FIXTURES / "molt-example.json5").read_text())
    parsed["models"]["providers"]["deepseek"]["apiKey"] = "sk-test"
    config = MoltConfig.model_validate(parsed)
    assert config.remotes[0].id == "server" and config.remotes[0].url.startswith("wss://")
    assert config.sync.keyFile == "~/.ssh/id_ed25519"
    assert config.alerts.email.sender == "bot@example.com"
    assert config.alerts.webhook.kind == "dingtalk"
    assert config.ui.language == "zh_CN"
    assert config.to_dict()["alerts"]["email"]["from"] == "bot@example.com"
    assert config.agents.defaults.model.fallbacks == ["deepseek/deepseek-chat"]


@pytest.mark.parametrize(
    ("bind", "host", "loopback_only"),
    [
        ("loopback", "127.0.0.1", True),
        ("auto", "127.0.0.1", True),
        ("lan", "0.0.0.0", False),
        ("all", "0.0.0.0", False),
        ("192.168.1.10", "192.168.1.10", False),
        ("::1", "::1", True),
    ],
)
def test_bind_values(bind: str, host: str, loopback_only: bool) -> None:
    gateway = MoltConfig.model_validate({"gateway": {"bind": bind}}).gateway
    assert gateway.bind_host() == host
    assert gateway.is_loopback_only() is loopback_only


def test_bind_custom_needs_a_host() -> None:
    gateway = MoltConfig.model_validate({"gateway": {"bind": "custom", "customBindHost": "10.0.0.5"}}).gateway
    assert gateway.bind_host() == "10.0.0.5"
    with pytest.raises(ValidationError, match="customBindHost is not set"):
        MoltConfig.model_validate({"gateway": {"bind": "custom"}})


def test_bad_bind_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValidationError, match="expected loopback, lan, all"):
        MoltConfig.model_validate({"gateway": {"bind": "everywhere"}})


def test_model_string_shorthand() -> None:
    config = MoltConfig.model_validate({"agents": {"defaults": {"model": "anthropic/claude-sonnet-4-5"}}})
    assert config.agents.defaults.model.primary == "anthropic/claude-sonnet-4-5"


@pytest.mark.parametrize(
    ("remotes", "message"),
    [
        ([{"id": "a", "url": "https://x"}], "ws:// or wss://"),
        ([{"id": "a", "url": "ws://x"}, {"id": "a", "url": "ws://y"}], 'two remotes have the id "a"'),
        ([{"id": "a", "url": "ws://x", "tlsFingerprint": "md5:00"}], "64 hex digits"),
        ([{"url": "ws://x"}], "Field required"),
    ],
)
def test_remote_checks(remotes: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MoltConfig.model_validate({"remotes": remotes})


@pytest.mark.parametrize(
    "data",
    [
        {"gateway": {"port": 0}},
        {"gateway": {"port": 70000}},
        {"gateway": {"auth": {"mode": "magic"}}},
        {"agents": {"defaults": {"maxConcurrent": 0}}},
        {"session": {"reset": {"atHour": 24}}},
        {"failover": {"failAfter": 0}},
        {"alerts": {"thresholds": {"cpuWarning": 1.5}}},
        {"alerts": {"webhook": {"kind": "teams"}}},
        {"ui": {"language": "fr"}},
        {"sync": {"backend": "ftp"}},
    ],
)
def test_out_of_range_values_are_rejected(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MoltConfig.model_validate(data)


def test_molt_sections_are_listed() -> None:
    assert set(schema.MOLT_SECTIONS) == {"remotes", "failover", "sync", "alerts", "ui"}
