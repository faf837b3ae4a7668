"""The alert rules: the seeds' thresholds, which observations each rule reads, the defaults and the
config overrides."""

from __future__ import annotations

import math
from typing import Any

import pytest

from molt_desktop.config.schema import MoltConfig
from molt_desktop.monitor.model import Observation
from molt_desktop.monitor.rules import RULE_IDS, Rule, RuleResult, default_rules


def rules_of(config: dict[str, Any] | None = None) -> dict[str, Rule]:
    return {rule.id: rule for rule in default_rules(MoltConfig.model_validate(config or {}))}


def judge(rule_id: str, obs: Observation, config: dict[str, Any] | None = None) -> RuleResult | None:
    rule = rules_of(config)[rule_id]
    assert rule.reads(obs.check), (rule_id, obs.check)
    return rule.evaluate(obs)


def active(rule_id: str, obs: Observation, config: dict[str, Any] | None = None) -> bool:
    result = judge(rule_id, obs, config)
    assert result is not None
    return result.active


def test_the_defaults_severities_and_for_durations() -> None:
    rules = rules_of()
    assert list(rules) == list(RULE_IDS)
    assert {r.id: (r.severity, r.for_seconds) for r in rules.values()} == {
        "gateway_down": ("critical", 30.0),
        "remote_down": ("warning", 60.0),
        "provider_failing": ("critical", 120.0),
        "failover": ("warning", 0.0),
        "sync_stale": ("warning", 0.0),
        "budget_reached": ("warning", 0.0),
        "cpu_warning": ("warning", 300.0),
        "cpu_critical": ("critical", 120.0),
        "memory_critical": ("critical", 120.0),
        "disk_low": ("critical", 0.0),
    }


def test_cpu_memory_and_disk_thresholds_of_the_seeds() -> None:
    cpu = lambda v: Observation("system.cpu", "system", value=v)
    assert not active("cpu_warning", cpu(0.79))
    assert active("cpu_warning", cpu(0.8))
    assert active("cpu_warning", cpu(0.97))  # a critical load is also a warning
    assert not active("cpu_critical", cpu(0.94))
    assert active("cpu_critical", cpu(0.95))
    result = judge("cpu_critical", cpu(0.97))
    assert result == RuleResult(active=True, value=0.97, threshold=0.95, detail="")
    memory = lambda v: Observation("system.memory", "system", value=v)
    assert not active("memory_critical", memory(0.89))
    assert active("memory_critical", memory(0.9))
    disk = lambda v: Observation("system.disk", "system", value=v)
    assert not active("disk_low", disk(0.95))
    assert active("disk_low", disk(0.951))
    assert judge("cpu_warning", Observation("system.cpu", "system")) is None  # no value: says nothing


def test_thresholds_follow_the_config() -> None:
    config = {"alerts": {"thresholds": {"cpuWarning": 0.5, "cpuCritical": 0.7, "memoryCritical": 0.6,
                                        "errorRateCritical": 0.5}}}
    assert active("cpu_warning", Observation("system.cpu", "system", value=0.5), config)
    assert not active("cpu_critical", Observation("system.cpu", "system", value=0.69), config)
    assert active("memory_critical", Observation("system.memory", "system", value=0.6), config)
    provider = Observation("provider.openai", "openai", value=0.4, data={"runs": 10})
    assert not active("provider_failing", provider, config)


def test_provider_failing_judges_only_enough_runs() -> None:
    def provider(rate: float, runs: Any) -> Observation:
        return Observation("provider.anthropic", "anthropic", value=rate, detail="HTTP 529 overloaded",
                           data={"runs": runs, "errors": 1, "latencyMs": 900})

    assert judge("provider_failing", provider(0.75, 4)) is None  # 3 of 4 failed: too few runs to judge
    assert not active("provider_failing", provider(0.1, 10))  # the seeds say above 0.1
    result = judge("provider_failing", provider(0.2, 5))
    assert result == RuleResult(active=True, value=0.2, threshold=0.1, detail="HTTP 529 overloaded")
    assert judge("provider_failing", provider(0.5, "many")) is None  # bad data is no crash
    assert judge("provider_failing", provider(math.nan, 10)) is None


def test_gateways_are_down_when_they_do_not_answer() -> None:
    down = Observation("gateway.local", "local", ok=False, detail="connection refused")
    assert judge("gateway_down", down) == RuleResult(active=True, value=None, detail="connection refused")
    assert not active("gateway_down", Observation("gateway.local", "local", ok=True, value=3.5))
    assert judge("gateway_down", Observation("gateway.local", "local")) is None
    rules = rules_of()
    assert rules["remote_down"].reads("remote.server") and rules["remote_down"].reads("remote.gw-2")
    assert not rules["remote_down"].reads("remote") and not rules["remote_down"].reads("gateway.local")
    assert not rules["gateway_down"].reads("gateway.localhost")
    assert active("remote_down", Observation("remote.server", "server", ok=False, detail="timed out"))


def test_failover_sync_and_budget() -> None:
    assert active("failover", Observation("failover", "server", ok=False, detail="switched to server"))
    assert not active("failover", Observation("failover", "local", ok=True))
    assert rules_of()["failover"].one_subject
    sync = lambda age, data: Observation("sync", "sync", value=age, data=data)
    assert not active("sync_stale", sync(900, {"interval": 300}))
    assert judge("sync_stale", sync(901, {"interval": 300})) == RuleResult(active=True, value=901, threshold=900)
    assert judge("sync_stale", sync(901, {})) is None
    assert judge("sync_stale", sync(None, {"interval": 300})) is None
    spend = lambda dollars, data: Observation("spend.openai", "openai", value=dollars, data=data)
    assert not active("budget_reached", spend(4.99, {"budget": 5}))
    assert judge("budget_reached", spend(5.0, {"budget": 5})) == RuleResult(active=True, value=5.0, threshold=5)
    assert judge("budget_reached", spend(7.0, {})) is None  # no budget set


def test_overrides_per_rule(caplog: pytest.LogCaptureFixture) -> None:
    rules = rules_of({"alerts": {"rules": {
        "cpu_warning": {"enabled": False},
        "remote_down": {"forSeconds": 0, "severity": "critical"},
        "disk_low": {"forSeconds": 600},
        "cpu_panic": {"enabled": True},
    }}})
    assert "cpu_warning" not in rules
    assert (rules["remote_down"].severity, rules["remote_down"].for_seconds) == ("critical", 0.0)
    assert (rules["disk_low"].severity, rules["disk_low"].for_seconds) == ("critical", 600.0)
    assert (rules["gateway_down"].severity, rules["gateway_down"].for_seconds) == ("critical", 30.0)
    assert "alerts.rules.cpu_panic is not a rule" in caplog.text
