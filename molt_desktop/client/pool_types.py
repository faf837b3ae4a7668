"""The endpoint pool's public values: settings, status, switch events, chat results.

`FailoverSettings` (from the config's `failover` section), `PoolStatus` (the active link as the UI
shows it), `SwitchEvent` (one change of the active endpoint, with a translated message for the UI
and the alerts), `ChatResult` (one `pool.chat` turn). Not here: the pool itself (failover.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from molt_desktop.client.pool_link import Endpoint, Link, LinkSettings
from molt_desktop.i18n import _

LinkState = Literal["connecting", "connected", "disconnected", "stopped"]
SwitchReason = Literal["unreachable", "unresponsive", "provider", "recovered"]


@dataclass(frozen=True)
class FailoverSettings:
    probe_interval: float = 5.0
    fail_after: int = 2
    recover_after: int = 3
    switch_back: bool = True
    provider_fail_after: int = 2
    seed_turns: int = 6
    carry_timeout: float = 60.0  # how long a reply in flight waits for some gateway to take it
    provider_cooldown: float = 60.0  # after this, the local provider is given another chance

    @classmethod
    def from_config(cls, failover: Any) -> FailoverSettings:
        return cls(probe_interval=float(failover.probeIntervalSeconds), fail_after=int(failover.failAfter),
                   recover_after=int(failover.recoverAfter), switch_back=bool(failover.switchBack),
                   provider_fail_after=int(failover.providerFailAfter), seed_turns=int(failover.seedTurns))

    @property
    def link(self) -> LinkSettings:
        return LinkSettings(self.probe_interval, self.fail_after, self.recover_after)


@dataclass
class PoolStatus:
    endpoint_id: str | None
    kind: str | None
    url: str | None
    state: LinkState
    error: str | None = None
    connected_at: float | None = None  # time.time() of the current connection
    hello: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why this endpoint is the active one (the last switch's message)

    @property
    def connected(self) -> bool:
        return self.state == "connected"


@dataclass(frozen=True)
class SwitchEvent:
    from_id: str | None
    from_kind: str | None
    to_id: str
    to_kind: str
    url: str
    reason: SwitchReason
    message: str
    at: float


@dataclass
class ChatResult:
    text: str
    state: str  # final, error, aborted, timeout
    run_id: str
    endpoint: Endpoint | None
    error: str | None = None
    message: dict[str, Any] | None = None


def _gateway_name(link: Link) -> str:
    return _("local") if link.endpoint.kind == "local" else link.endpoint.id


def switch_message(reason: SwitchReason, to: Link, previous: Link | None) -> str:
    name = _gateway_name(to)
    before = _gateway_name(previous) if previous is not None else ""
    if reason == "unreachable":
        return _("Using the {name} gateway: the {previous} gateway is unreachable").format(name=name, previous=before)
    if reason == "unresponsive":
        return _("Using the {name} gateway: the {previous} gateway does not respond").format(
            name=name, previous=before)
    if reason == "provider":
        return _("Using the {name} gateway: the model provider of the {previous} gateway keeps failing").format(
            name=name, previous=before)
    return _("Back on the {name} gateway: it works again").format(name=name)
