"""Qt signals from the endpoint pool, and async calls from Qt slots.

`GatewayBridge` subscribes to client/failover.py's EndpointPool with plain callbacks and
re-emits what arrives as Qt signals (payloads are passed as Python objects, not converted).
Because qasync runs asyncio on the Qt thread, the callbacks already run on the GUI thread.
`spawn()` starts a coroutine from a slot and keeps a reference to it until it finishes.
Switches between gateways (`switched`, a SwitchEvent) and probe results of every endpoint
(`endpointHealthChanged`, an EndpointHealth) come from the pool's subscribe_switch /
subscribe_health; the last switch is kept as `last_switch` for windows opened later.
`describe_error()` turns a failed call or a chat error event into a message a person can act on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from molt_desktop.client.connection import GatewayCallError, GatewayUnreachable
from molt_desktop.client.failover import EndpointPool, PoolStatus
from molt_desktop.logs import get_logger
from molt_desktop.ui.i18n import tr

log = get_logger("ui")

TERMINAL_CHAT_STATES = ("final", "error", "aborted")


class GatewayBridge(QObject):
    eventReceived = Signal(str, object)  # every event: (name, payload)
    chatEvent = Signal(object)  # `chat` payloads (delta, final, error, aborted, status)
    agentEvent = Signal(object)
    sessionsChanged = Signal(object)  # `sessions.changed` payloads
    healthEvent = Signal(object)  # `health` payloads
    configChanged = Signal(object)
    shutdownEvent = Signal(object)
    statusChanged = Signal(object)  # PoolStatus: connecting / connected / disconnected
    activeRunsChanged = Signal(int)  # replies streaming right now, on the active gateway
    switched = Signal(object)  # SwitchEvent: the pool moved to another gateway (and why)
    endpointHealthChanged = Signal(object)  # EndpointHealth of one endpoint, after each probe

    def __init__(self, pool: EndpointPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._tasks: set[asyncio.Task[Any]] = set()
        self._active_runs: set[str] = set()
        self.last_switch: Any = None
        self._unsubscribe = [pool.subscribe_events(self._on_event), pool.subscribe_status(self._on_status)]
        # Pools without endpoint switching (a single gateway) have neither.
        if hasattr(pool, "subscribe_switch"):
            self._unsubscribe.append(pool.subscribe_switch(self._on_switch))
        if hasattr(pool, "subscribe_health"):
            self._unsubscribe.append(pool.subscribe_health(self._on_endpoint_health))

    @property
    def status(self) -> PoolStatus:
        return self.pool.status

    @property
    def active_runs(self) -> int:
        return len(self._active_runs)

    def endpoint_health(self) -> list[Any]:
        """The pool's EndpointHealth of every endpoint, in the pool's order ([] if it has none)."""
        health = getattr(self.pool, "endpoint_health", None)
        return list(health()) if callable(health) else []

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> Any:
        return await self.pool.call(method, params, timeout=timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, on_result: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None) -> asyncio.Task[Any]:
        """Run `coro` on the loop; `on_result`/`on_error` are called on the GUI thread."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            try:
                if exc is not None:
                    if on_error is not None:
                        on_error(exc)
                    else:
                        log.warning("background UI call failed: %s", exc)
                elif on_result is not None:
                    on_result(t.result())
            except Exception:
                log.exception("UI callback failed")

        task.add_done_callback(done)
        return task

    async def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _on_event(self, event: str, payload: dict[str, Any]) -> None:
        self.eventReceived.emit(event, payload)
        if event == "chat":
            self._track_run(payload)
            self.chatEvent.emit(payload)
        elif event == "agent":
            self.agentEvent.emit(payload)
        elif event == "sessions.changed":
            self.sessionsChanged.emit(payload)
        elif event == "health":
            self.healthEvent.emit(payload)
        elif event == "config.changed":
            self.configChanged.emit(payload)
        elif event == "shutdown":
            self.shutdownEvent.emit(payload)

    def _track_run(self, payload: dict[str, Any]) -> None:
        run_id = str(payload.get("runId") or "")
        before = len(self._active_runs)
        if payload.get("state") in TERMINAL_CHAT_STATES:
            self._active_runs.discard(run_id)
        elif run_id:
            self._active_runs.add(run_id)
        if len(self._active_runs) != before:
            self.activeRunsChanged.emit(len(self._active_runs))

    def _on_switch(self, event: Any) -> None:
        self.last_switch = event
        log.info("gateway switch: %s -> %s (%s)", getattr(event, "from_id", None), getattr(event, "to_id", None),
                 getattr(event, "reason", None))
        self.switched.emit(event)

    def _on_endpoint_health(self, health: Any) -> None:
        self.endpointHealthChanged.emit(health)

    def _on_status(self, status: PoolStatus) -> None:
        # A reply in flight is carried over to the next gateway by the pool (same runId): its
        # events re-add it. Runs the pool cannot carry end with a chat `error` event.
        if not status.connected and self._active_runs:
            self._active_runs.clear()
            self.activeRunsChanged.emit(0)
        self.statusChanged.emit(status)


# --- errors a person can act on ------------------------------------------------------------

NEXT_NONE = "none"
NEXT_RETRY = "retry"
NEXT_SETTINGS = "settings"
# Provider failures (errorDetail.failoverReason) only the user can fix, in Settings.
SETTINGS_REASONS = ("auth", "not_configured", "bad_request")


@dataclass
class UserError:
    message: str
    next_step: str  # NEXT_NONE, NEXT_RETRY or NEXT_SETTINGS
    detail: str = ""  # the gateway's own words, for a tooltip or the log


def describe_error(error: BaseException | dict[str, Any]) -> UserError:
    """A failed call (exception) or a chat `error` event payload, in the UI language."""
    if isinstance(error, dict):
        kind = str(error.get("errorKind") or "unknown")
        extra = error.get("errorDetail")
        reason = str(extra.get("failoverReason") or "") if isinstance(extra, dict) else ""
        return _chat_error(reason if reason in SETTINGS_REASONS else kind, str(error.get("errorMessage") or ""))
    if isinstance(error, GatewayUnreachable):
        return UserError(tr("The gateway is not reachable. It may be restarting; try again in a moment."),
                         NEXT_RETRY, str(error))
    if isinstance(error, GatewayCallError):
        if error.code in ("UNAUTHORIZED", "FORBIDDEN") or "unauthorized" in error.message.lower():
            return UserError(tr("The gateway refused this app's credentials. Check the gateway token in Settings."),
                             NEXT_SETTINGS, error.message)
        if error.code == "UNAVAILABLE" or error.retryable:
            return UserError(tr("The gateway could not do this right now: {detail}").format(detail=error.message),
                             NEXT_RETRY, error.message)
        return UserError(tr("The gateway rejected the request: {detail}").format(detail=error.message),
                         NEXT_NONE, error.message)
    if isinstance(error, asyncio.TimeoutError):
        return UserError(tr("The gateway did not answer in time. Try again."), NEXT_RETRY, "timeout")
    return UserError(tr("Something went wrong: {detail}").format(detail=str(error) or type(error).__name__),
                     NEXT_RETRY, repr(error))


def _chat_error(kind: str, detail: str) -> UserError:
    if kind == "rate_limit":
        return UserError(tr("The model provider is busy or over its rate limit. Wait a moment, then retry."),
                         NEXT_RETRY, detail)
    if kind == "timeout":
        return UserError(tr("The model took too long to answer. Retry, or pick a faster model."), NEXT_RETRY, detail)
    if kind == "context_length":
        return UserError(tr("This conversation is too long for the model. Start a new chat or pick a model "
                            "with a larger context."), NEXT_NONE, detail)
    if kind == "refusal":
        return UserError(tr("The model declined to answer this message."), NEXT_NONE, detail)
    if kind == "unavailable":
        return UserError(tr("No gateway could finish this reply: the gateway in use stopped and no other one "
                            "took it over. Retry when a gateway is reachable again."), NEXT_RETRY, detail)
    if kind in SETTINGS_REASONS:
        return UserError(tr("The model provider cannot answer: {detail} Open Settings to fix the provider or "
                            "pick another model.").format(detail=detail), NEXT_SETTINGS, detail)
    return UserError(tr("The reply failed: {detail}").format(detail=detail or tr("unknown error")), NEXT_RETRY, detail)
