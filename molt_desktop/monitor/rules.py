"""Alert rules: which observations a rule reads, when its condition holds, and the defaults.

A `Rule` turns one `Observation` into a `RuleResult` (the condition holds or not, with the value
and threshold that decided it), or None when the observation says nothing about the rule. Rules
keep no state: how long a condition held, and what to send, is the `AlertManager`'s business
(alerts.py). The words people read are in texts.py.

The default rules (`default_rules`), with their severity and "for" duration (how long the
condition must hold before the alert fires):

| rule             | reads              | holds when                                   | severity | for   |
|------------------|--------------------|----------------------------------------------|----------|-------|
| gateway_down     | gateway.local      | the local gateway does not answer (ok False) | critical | 30 s  |
| remote_down      | remote.<id>        | a remote gateway cannot be reached           | warning  | 60 s  |
| provider_failing | provider.<name>    | error rate > errorRateCritical (0.1), >= 5 runs | critical | 120 s |
| failover         | failover           | a remote gateway is in use (ok False)        | warning  | 0     |
| sync_stale       | sync               | last good sync older than 3 x the interval   | warning  | 0     |
| budget_reached   | spend.<provider>   | today's dollars >= the daily budget          | warning  | 0     |
| cpu_warning      | system.cpu         | CPU use >= cpuWarning (0.8)                  | warning  | 300 s |
| cpu_critical     | system.cpu         | CPU use >= cpuCritical (0.95)                | critical | 120 s |
| memory_critical  | system.memory      | memory use >= memoryCritical (0.9)           | critical | 120 s |
| disk_low         | system.disk        | the state dir's disk is > 95 % used          | critical | 0     |

Why these durations: a gateway that misses one probe (a restart, a suspended laptop waking up)
is not worth a notification, so the local gateway must be down for 30 s and a remote (often on
a slower network) for 60 s. CPU is bursty (a build, an agent run), so a warning needs 5 minutes
of sustained load; critical levels need 2 minutes. Failover, sync, spend and disk are already
judged over time by the code that reports them (the endpoint pool's failAfter, the sync
interval, a whole day's spend, a slowly filling disk), so they fire at once.

cpu_warning and cpu_critical are independent: at 97 % both fire, so turning the critical rule off
still leaves a warning. `alerts.rules.<id>.{enabled, forSeconds, severity}` override each rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from molt_desktop.config.schema import AlertThresholds, MoltConfig
from molt_desktop.logs import get_logger
from molt_desktop.monitor.model import Observation, Severity

log = get_logger("monitor")

DISK_LOW_RATIO = 0.95  # not a setting: a disk over 95 % full is a problem on every machine
PROVIDER_MIN_RUNS = 5  # fewer runs say too little about an error rate (one failure of two is 50 %)
SYNC_STALE_FACTOR = 3.0  # three missed sync intervals in a row


@dataclass(frozen=True)
class RuleResult:
    """What one observation says about a rule's condition."""

    active: bool
    value: float | None = None
    threshold: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Rule:
    """One alert rule.

    `checks` names the observations it reads: an exact check ("gateway.local") or a prefix
    ending in "." ("remote." reads "remote.server"). With `one_subject`, only one subject can be
    active at a time (failover: the remote in use); an observation about one subject ends the
    alerts about the others.
    """

    id: str
    severity: Severity
    for_seconds: float
    checks: tuple[str, ...]
    evaluate: Callable[[Observation], RuleResult | None]
    one_subject: bool = False

    def reads(self, check: str) -> bool:
        return any(check == c or (c.endswith(".") and check.startswith(c)) for c in self.checks)


RULE_IDS = ("gateway_down", "remote_down", "provider_failing", "failover", "sync_stale", "budget_reached",
            "cpu_warning", "cpu_critical", "memory_critical", "disk_low")


def _number(value: Any) -> float | None:
    """A finite float of `value`, or None (observation data comes from many places)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _reachable(obs: Observation) -> RuleResult | None:
    if obs.ok is None:
        return None
    return RuleResult(active=not obs.ok, value=_number(obs.value), detail=obs.detail)


def _provider_failing(limit: float) -> Callable[[Observation], RuleResult | None]:
    def evaluate(obs: Observation) -> RuleResult | None:
        runs = _number(obs.data.get("runs"))
        rate = _number(obs.value)
        if runs is None or runs < PROVIDER_MIN_RUNS or rate is None:
            return None
        return RuleResult(active=rate > limit, value=rate, threshold=limit, detail=obs.detail)

    return evaluate


def _failover(obs: Observation) -> RuleResult | None:
    if obs.ok is None:
        return None
    return RuleResult(active=not obs.ok, detail=obs.detail)


def _sync_stale(obs: Observation) -> RuleResult | None:
    age = _number(obs.value)
    interval = _number(obs.data.get("interval"))
    if age is None or interval is None or interval <= 0:
        return None
    limit = SYNC_STALE_FACTOR * interval
    return RuleResult(active=age > limit, value=age, threshold=limit, detail=obs.detail)


def _budget_reached(obs: Observation) -> RuleResult | None:
    spent = _number(obs.value)
    budget = _number(obs.data.get("budget"))
    if spent is None or budget is None or budget <= 0:
        return None
    return RuleResult(active=spent >= budget, value=spent, threshold=budget, detail=obs.detail)


def _at_least(limit: float) -> Callable[[Observation], RuleResult | None]:
    def evaluate(obs: Observation) -> RuleResult | None:
        ratio = _number(obs.value)
        if ratio is None:
            return None
        return RuleResult(active=ratio >= limit, value=ratio, threshold=limit, detail=obs.detail)

    return evaluate


def _above(limit: float) -> Callable[[Observation], RuleResult | None]:
    def evaluate(obs: Observation) -> RuleResult | None:
        ratio = _number(obs.value)
        if ratio is None:
            return None
        return RuleResult(active=ratio > limit, value=ratio, threshold=limit, detail=obs.detail)

    return evaluate


def builtin_rules(thresholds: AlertThresholds | None = None) -> list[Rule]:
    """The ten rules with their built-in severity and "for" duration (no overrides applied)."""
    t = thresholds or AlertThresholds()
    return [
        Rule("gateway_down", "critical", 30.0, ("gateway.local",), _reachable),
        Rule("remote_down", "warning", 60.0, ("remote.",), _reachable),
        Rule("provider_failing", "critical", 120.0, ("provider.",), _provider_failing(t.errorRateCritical)),
        Rule("failover", "warning", 0.0, ("failover",), _failover, one_subject=True),
        Rule("sync_stale", "warning", 0.0, ("sync",), _sync_stale),
        Rule("budget_reached", "warning", 0.0, ("spend.",), _budget_reached),
        Rule("cpu_warning", "warning", 300.0, ("system.cpu",), _at_least(t.cpuWarning)),
        Rule("cpu_critical", "critical", 120.0, ("system.cpu",), _at_least(t.cpuCritical)),
        Rule("memory_critical", "critical", 120.0, ("system.memory",), _at_least(t.memoryCritical)),
        Rule("disk_low", "critical", 0.0, ("system.disk",), _above(DISK_LOW_RATIO)),
    ]


def default_rules(config: MoltConfig) -> list[Rule]:
    """The rules of `config`: thresholds from `alerts.thresholds`, then `alerts.rules.<id>` overrides
    (a disabled rule is left out)."""
    overrides = config.alerts.rules
    for unknown in sorted(set(overrides) - set(RULE_IDS)):
        log.warning("alerts.rules.%s is not a rule; known rules: %s", unknown, ", ".join(RULE_IDS))
    rules = []
    for rule in builtin_rules(config.alerts.thresholds):
        override = overrides.get(rule.id)
        if override is not None:
            if not override.enabled:
                continue
            rule = Rule(
                rule.id,
                override.severity or rule.severity,
                rule.for_seconds if override.forSeconds is None else float(override.forSeconds),
                rule.checks,
                rule.evaluate,
                rule.one_subject,
            )
        rules.append(rule)
    return rules
