"""What the app knows about the gateway's health, shared by the tray and the health view.

One `HealthMonitor` per bridge (`HealthMonitor.of(bridge)` creates it as the bridge's child on
first use), so the health view opened later still shows the chat error the tray saw earlier.
It calls `status` when the link comes up, when the gateway sends `health` or `config.changed`,
and every `interval` seconds; `status` carries the model readiness problems (no provider,
unknown default model), the config entry (an invalid edit on disk) and the store check. Chat
`error` events are kept as the last chat error; one the user must fix in Settings (provider
auth, not configured) counts as a problem until a later reply succeeds. The pool's probe results
of every endpoint (EndpointHealth: state, latency, last check, last error) are kept by id, from
`bridge.endpoint_health()` and then `bridge.endpointHealthChanged`.

Not here: how the state is shown (tray.py, health_view.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from molt_desktop.client.failover import PoolStatus
from molt_desktop.logs import get_logger
from molt_desktop.ui.bridge import NEXT_SETTINGS, GatewayBridge, UserError, describe_error
from molt_desktop.ui.i18n import tr

log = get_logger("ui")

CHECK_INTERVAL_MS = 30_000


@dataclass
class Problem:
    """Something that keeps chats from working; `page` is the Settings page that fixes it."""

    kind: str  # "provider" | "config" | "store" | "chat"
    text: str  # in the UI language
    detail: str = ""  # the gateway's own words
    page: str = ""


@dataclass
class ChatFailure:
    error: UserError
    at: float  # time.time()
    session_key: str
    raw: dict[str, Any]


class HealthMonitor(QObject):
    changed = Signal()

    def __init__(self, bridge: GatewayBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.status_payload: dict[str, Any] | None = None
        self.health_payload: dict[str, Any] | None = None
        self.last_check: float | None = None  # time.time() of the last `status` answer
        self.last_check_error: tuple[str, float] | None = None
        self.last_link_error: tuple[str, float] | None = None
        self.last_chat_error: ChatFailure | None = None
        self.provider_failing = False
        self.endpoints: dict[str, Any] = {h.id: h for h in bridge.endpoint_health() if getattr(h, "id", None)}
        self._config: dict[str, Any] = {}
        self._checking = False
        self._again = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        bridge.statusChanged.connect(self._on_status)
        bridge.healthEvent.connect(self._on_health)
        bridge.configChanged.connect(lambda _payload: self.refresh())
        bridge.chatEvent.connect(self._on_chat)
        bridge.endpointHealthChanged.connect(self._on_endpoint_health)
        if bridge.status.connected:
            self.refresh()

    @classmethod
    def of(cls, bridge: GatewayBridge) -> HealthMonitor:
        """The bridge's monitor, created on first use."""
        existing = bridge.findChild(cls)
        if isinstance(existing, cls):
            return existing
        return cls(bridge, bridge)

    # --- checking --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask the gateway for its `status` now (one call at a time; a request while one runs repeats it)."""
        if not self.bridge.status.connected:
            return
        if self._checking:
            self._again = True
            return
        self._checking = True
        self.bridge.spawn(self.bridge.call("status", {}, timeout=10), on_result=self._checked,
                          on_error=self._check_failed)

    def _checked(self, payload: Any) -> None:
        self.status_payload = payload if isinstance(payload, dict) else {}
        self._take_config(self.status_payload)
        self.last_check = time.time()
        self.last_check_error = None
        self._done()

    def _check_failed(self, exc: BaseException) -> None:
        self.last_check = time.time()
        self.last_check_error = (describe_error(exc).message, self.last_check)
        log.info("status check failed: %s", exc)
        self._done()

    def _done(self) -> None:
        self._checking = False
        self.changed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _on_status(self, status: PoolStatus) -> None:
        if status.connected:
            self.refresh()
        else:
            if status.error:
                self.last_link_error = (status.error, time.time())
            self.changed.emit()

    def _on_health(self, payload: Any) -> None:
        if isinstance(payload, dict):
            self.health_payload = payload
            self._take_config(payload)
        self.refresh()  # `health` says the config changed validity; `status` has the rest
        self.changed.emit()

    def _on_endpoint_health(self, health: Any) -> None:
        endpoint_id = getattr(health, "id", None)
        if endpoint_id:
            self.endpoints[str(endpoint_id)] = health  # a new id keeps its place at the end
            self.changed.emit()

    def endpoint_health(self) -> list[Any]:
        """Every endpoint's last EndpointHealth, in the pool's order (a removed remote is gone)."""
        current = self.bridge.endpoint_health()
        if current:
            self.endpoints = {h.id: h for h in current if getattr(h, "id", None)}
        return list(self.endpoints.values())

    def _on_chat(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        state = payload.get("state")
        if state == "error":
            error = describe_error(payload)
            self.last_chat_error = ChatFailure(error, time.time(), str(payload.get("sessionKey") or ""), payload)
            self.provider_failing = error.next_step == NEXT_SETTINGS
            self.changed.emit()
        elif state == "final" and self.provider_failing:
            self.provider_failing = False
            self.changed.emit()

    # --- what the views read ----------------------------------------------------------------

    def _take_config(self, payload: dict[str, Any]) -> None:
        if isinstance(payload.get("config"), dict):
            self._config = payload["config"]

    def config_entry(self) -> dict[str, Any]:
        """The `config` entry (path, valid, error) of whichever of `status` and `health` came last."""
        return self._config

    def default_model(self) -> str:
        model = (self.status_payload or {}).get("model")
        return str(model.get("primary") or "") if isinstance(model, dict) else ""

    def uptime_ms(self) -> int | None:
        """The gateway's uptime now: from the last `status`, else the hello snapshot, plus the time since."""
        status = self.bridge.status
        if not status.connected:
            return None
        if self.status_payload and isinstance(self.status_payload.get("uptimeMs"), (int, float)) and self.last_check:
            return int(self.status_payload["uptimeMs"] + (time.time() - self.last_check) * 1000)
        snapshot = status.hello.get("snapshot") if isinstance(status.hello, dict) else None
        base = snapshot.get("uptimeMs") if isinstance(snapshot, dict) else None
        if isinstance(base, (int, float)) and status.connected_at:
            return int(base + (time.time() - status.connected_at) * 1000)
        return None

    def problems(self) -> list[Problem]:
        """What keeps chats from working right now, most important first."""
        found: list[Problem] = []
        config = self.config_entry()
        if config and config.get("valid") is False:
            detail = str(config.get("error") or "")
            found.append(Problem("config", tr("The settings file has an error, so the last edit was not "
                                              "applied: {detail}").format(detail=detail), detail, "general"))
        status = self.status_payload or {}
        readiness = status.get("readiness")
        failing = list(readiness.get("failing") or []) if isinstance(readiness, dict) else []
        model = status.get("model")
        if isinstance(model, dict):
            failing += [p for p in model.get("problems") or [] if p not in failing]
        for text in failing:
            found.append(_problem(str(text)))
        if self.provider_failing and self.last_chat_error is not None:
            error = self.last_chat_error.error
            found.append(Problem("chat", error.message, error.detail, "providers"))
        return found


def format_duration(ms: float) -> str:
    """An uptime as people say it: "less than a minute", "12 min", "3 h 5 min", "2 d 4 h"."""
    minutes = int(ms // 60_000)
    if minutes < 1:
        return tr("less than a minute")
    if minutes < 60:
        return tr("{minutes} min").format(minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return tr("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return tr("{days} d {hours} h").format(days=days, hours=hours)


def _problem(text: str) -> Problem:
    """A readiness problem of the gateway (English, from the core) in the UI language."""
    if text.startswith("session store not writable"):
        path = text.partition(":")[2].strip()
        return Problem("store", tr("Chats cannot be saved: the folder {path} is not writable.").format(path=path),
                       text, "")
    if text == "no model provider configured":
        return Problem("provider", tr("No model provider is set up, so chats cannot get replies."), text,
                       "providers")
    return Problem("provider", tr("Chats cannot get replies: {problem}").format(problem=text), text, "models")


__all__ = ["ChatFailure", "HealthMonitor", "Problem", "format_duration"]
