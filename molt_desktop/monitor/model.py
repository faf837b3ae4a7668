"""The values the monitor passes around: observations, alerts, and what a sink must do.

A probe (probes.py) turns what it measured into `Observation`s; rules (rules.py) turn them into
conditions; the `AlertManager` (alerts.py) keeps each alert's state (pending -> firing ->
resolved) and hands `AlertNotice`s to the sinks (sinks/). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Severity = Literal["info", "warning", "critical"]
AlertState = Literal["pending", "firing", "resolved"]
NoticeKind = Literal["fire", "resolve", "repeat", "test"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Observation:
    """One measurement. `check` names what was measured: "gateway.local", "remote.<id>",
    "provider.<name>", "system.cpu", "system.memory", "system.disk", "spend.<provider>",
    "failover", "sync"; `subject` is who it is about (a remote's id, a provider's name, ...)."""

    check: str
    subject: str
    ok: bool | None = None  # reachable / healthy, where that is the question
    value: float | None = None  # a ratio (cpu, memory, error rate), a latency in ms, dollars...
    detail: str = ""  # the last error or what was seen, for people
    at: float = 0.0  # time.time()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Alert:
    """One alert of one rule about one subject (key "<rule>:<subject>")."""

    key: str
    rule: str
    subject: str
    severity: Severity
    state: AlertState
    since: float  # when the condition started to hold
    fired_at: float | None = None
    resolved_at: float | None = None
    notified_at: float | None = None  # the last fire/repeat notice
    value: float | None = None
    threshold: float | None = None
    detail: str = ""  # the last error or measurement
    title: str = ""  # translated, one line: "Remote gateway server is down"
    body: str = ""  # translated: what failed, since when, the last error, what to check


@dataclass(frozen=True)
class AlertNotice:
    """What a sink delivers: an alert that fired, repeats, resolved, or a test."""

    kind: NoticeKind
    alert: Alert
    host: str = ""  # the machine that saw it (mails and webhooks come from servers too)


class SinkError(Exception):
    """A sink could not deliver; the message says why in words a person can act on."""


class Sink(Protocol):
    name: str  # "desktop", "email", "webhook", "tray"

    @property
    def enabled(self) -> bool: ...

    async def send(self, notice: AlertNotice) -> None:
        """Deliver or raise SinkError. Must not block the event loop; may take a few seconds."""
