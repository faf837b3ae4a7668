"""The endpoint pool: the one gateway client every UI action and `molt-desktop chat` goes through.

An `EndpointPool` holds the gateways this app can use — the local one first, then the `remotes`
of the config in order — with a `Link` each (pool_link.py: connection, probes, health). The
active endpoint is the first healthy one; the local gateway also counts as failed for chats while
its model provider keeps failing with network or login errors and a remote works. With
`failover.switchBack` the pool returns to the local gateway once it is healthy again (never in
the middle of a reply). Every switch is a `SwitchEvent` for the UI and the alerts.

No message is lost: a `chat.send` whose gateway dies before the reply is complete is sent again
to the next gateway with the same idempotencyKey, so its events keep their runId; events of a run
from any other gateway are dropped, so a reply is never shown twice. Conversations that move to a
remote are seeded with their recent turns, and turns made on a remote come home to the local
transcript when the local gateway is back (pool_continuity.py).

Callers use `pool.call(method, params)` / `pool.chat(...)` and need not know which endpoint
answered. Not here: the WebSocket protocol (connection.py), Qt (ui/bridge.py makes signals of
the callbacks).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from molt_desktop.client.connection import ClientOptions, GatewayCallError, GatewayUnreachable
from molt_desktop.client.pool_continuity import LocalHistory, RemoteTurnJournal, reconcile
from molt_desktop.client.pool_link import ChangeReason, Endpoint, EndpointHealth, Link
from molt_desktop.client.pool_runs import PoolChats, _Run
from molt_desktop.client.pool_types import (
    ChatResult,
    FailoverSettings,
    LinkState,
    PoolStatus,
    SwitchEvent,
    SwitchReason,
    switch_message,
)
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

EventCallback = Callable[[str, dict[str, Any]], None]
StatusCallback = Callable[["PoolStatus"], None]
SwitchCallback = Callable[["SwitchEvent"], None]
HealthCallback = Callable[[EndpointHealth], None]

READ_METHODS = frozenset({"health", "status", "models.list", "sessions.list", "sessions.preview", "chat.history",
                          "config.get", "logs.tail", "system-presence", "device.pair.list"})


class EndpointPool(PoolChats):
    def __init__(self, endpoints: list[Endpoint], *, settings: FailoverSettings | None = None,
                 journal: RemoteTurnJournal | None = None, local_history: LocalHistory | None = None) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.settings = settings or FailoverSettings()
        self.journal = journal if journal is not None else RemoteTurnJournal()
        self._local_history = local_history
        self._links = [self._make_link(e) for e in endpoints]
        self._active: Link = self._links[0]
        self._reason: str | None = None
        self._status = PoolStatus(self._active.id, self._active.endpoint.kind, None, "disconnected")
        self._connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._callbacks: dict[str, list[Callable[..., None]]] = {"event": [], "status": [], "switch": [], "health": []}
        self._runs: dict[str, _Run] = {}
        self._finished_on: dict[str, str] = {}  # run id -> the link that answered it
        self._provider_failures: dict[str, int] = {}
        self._provider_failed_at: dict[str, float] = {}
        self._seeded: set[tuple[str, str]] = set()
        self._recent: dict[str, list[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconciling: asyncio.Task[int] | None = None
        self._started = False
        self._stopping = False

    def _make_link(self, endpoint: Endpoint) -> Link:
        return Link(endpoint, self.settings.link, self._on_link_event, self._on_link_change)

    # --- what callers use ------------------------------------------------------------------

    @property
    def endpoints(self) -> list[Endpoint]:
        return [link.endpoint for link in self._links]

    @property
    def active(self) -> Endpoint:
        return self._active.endpoint

    @property
    def status(self) -> PoolStatus:
        return self._status

    @property
    def connection(self) -> Any:
        return self._active.connection

    def endpoint_health(self) -> list[EndpointHealth]:
        return [link.health for link in self._links]

    def subscribe_events(self, callback: EventCallback) -> Callable[[], None]:
        """Every event of the active gateway (and of runs this pool moved), as `(event, payload)`."""
        return self._subscribe("event", callback)

    def subscribe_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Called with the new PoolStatus whenever the active link changes."""
        return self._subscribe("status", callback)

    def subscribe_switch(self, callback: SwitchCallback) -> Callable[[], None]:
        return self._subscribe("switch", callback)

    def subscribe_health(self, callback: HealthCallback) -> Callable[[], None]:
        return self._subscribe("health", callback)

    async def start(self) -> None:
        """Connect every endpoint in the background; returns at once."""
        self._stopping = False
        self._started = True
        self._set_status(PoolStatus(self._active.id, self._active.endpoint.kind, self._active.health.url,
                                    "connecting"))
        for link in self._links:
            link.start()

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def reconnect(self) -> None:
        """Drop the active link (e.g. after a token change); it connects again at once."""
        await self._active.drop("reconnecting")

    def set_endpoints(self, endpoints: list[Endpoint]) -> None:
        """Follow a config change: new remotes start, removed ones stop, changed ones reconnect."""
        old = {link.id: link for link in self._links}
        links: list[Link] = []
        for endpoint in endpoints:
            link = old.pop(endpoint.id, None)
            if link is not None and link.endpoint != endpoint:
                link.endpoint = endpoint
                self._spawn(link.drop("settings changed"))
            links.append(link or self._make_link(endpoint))
        self._links = links
        for link in old.values():
            self._spawn(link.stop())
        if self._started and not self._stopping:
            for link in self._links:
                link.start()
        if self._active not in self._links:
            self._active = self._links[0]
        self._evaluate(None)

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(link.stop() for link in self._links), return_exceptions=True)
        self._connected.clear()
        self._set_status(PoolStatus(self._active.id, self._active.endpoint.kind, self._status.url, "stopped",
                                    reason=self._reason))

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0,
                   connect_timeout: float = 5.0, expect_final: bool = False) -> Any:
        """Call a method on the active gateway, waiting briefly for one if none is connected.

        Raises GatewayUnreachable when no gateway answers, GatewayCallError for error replies.
        A `chat.send` is followed to its end and moved to another gateway if its own one dies.
        """
        params = dict(params or {})
        if method == "chat.send" and isinstance(params.get("idempotencyKey"), str):
            return await self._send_chat(params, timeout, connect_timeout)
        attempts = 2 if method in READ_METHODS else 1
        for attempt in range(attempts):
            link = await self._wait_active(connect_timeout)
            try:
                return await link.call(method, params, timeout=timeout, expect_final=expect_final)
            except GatewayUnreachable:
                if attempt + 1 == attempts:
                    raise
        raise AssertionError("unreachable")

    # --- links report here -------------------------------------------------------------------

    def _on_link_event(self, link: Link, event: str, payload: dict[str, Any]) -> None:
        if event in ("chat", "agent"):
            run = self._runs.get(str(payload.get("runId")))
            if run is not None:
                if run.link_id != link.id:
                    return  # a copy from a gateway the run has left
                if event == "chat" and not self._track_chat(run, link, payload):
                    return
            elif link is not self._active:
                return
        elif link is not self._active:
            return
        self._dispatch(event, payload)

    def _on_link_change(self, link: Link, reason: ChangeReason) -> None:
        for callback in list(self._callbacks["health"]):
            self._safe(callback, link.health)
        if reason == "closed" or link.health.state == "down":
            self._seeded = {k for k in self._seeded if k[0] != link.id}
            for run in list(self._runs.values()):
                if run.link_id == link.id:
                    self._carry_over(run, exclude=link.id)
        if link.endpoint.kind == "local" and link.up and self.journal.turns:
            self._start_reconcile(link)
        self._evaluate(link)
        self._changed.set()
        self._changed = asyncio.Event()

    # --- choosing the active endpoint ----------------------------------------------------------

    def _healthy_other(self, link: Link) -> Link | None:
        return next((other for other in self._links if other is not link and other.up), None)

    def _usable(self, link: Link) -> bool:
        """Healthy (or connected while nothing else is), and not failing chats on its provider."""
        if link.connection is None:
            return False
        if not link.up and (link.health.state == "down" and self._healthy_other(link) is not None):
            return False  # recovering: wait for `recover_after` good probes while another one works
        failed_at = self._provider_failed_at.get(link.id)
        if failed_at is not None:
            if time.monotonic() - failed_at < self.settings.provider_cooldown and self._healthy_other(link):
                return False
            self._provider_failed_at.pop(link.id, None)
            self._provider_failures[link.id] = 0
            link.mark_provider(False, quiet=True)
        return True

    def _choose(self) -> Link | None:
        current = self._active
        if not self.settings.switch_back and self._usable(current):
            return current
        for link in self._links:
            if link.health.state == "unknown" and link.connection is None:
                # Not checked yet: wait for it rather than flap to a later gateway at start.
                return current if self._usable(current) else None
            if self._usable(link):
                return link
        return None

    def _evaluate(self, cause: Link | None) -> None:
        if self._stopping:
            return
        chosen = self._choose()
        current = self._active
        if chosen is not None and chosen is not current:
            busy = any(r.link_id == current.id for r in self._runs.values())
            if busy and self._usable(current):
                chosen = current  # switch back after the replies streaming there are done
            else:
                self._switch(chosen, current)
        self._publish_status()

    def _switch(self, to: Link, previous: Link) -> None:
        reason: SwitchReason
        order = self._links.index(to) if to in self._links else 0
        if previous in self._links and order < self._links.index(previous):
            reason = "recovered"
        elif previous.health.provider_failing:
            reason = "provider"
        elif previous.connection is None:
            reason = "unreachable"
        else:
            reason = "unresponsive"
        self._active = to
        self._seeded = {k for k in self._seeded if to.endpoint.kind == "remote" or k[0] == to.id}
        message = switch_message(reason, to, previous)
        self._reason = message if to.endpoint.kind == "remote" or reason == "recovered" else None
        log.warning("%s (%s)", message, to.health.url) if to.endpoint.kind == "remote" else log.info("%s", message)
        event = SwitchEvent(previous.id, previous.endpoint.kind, to.id, to.endpoint.kind, to.health.url, reason,
                            message, time.time())
        for callback in list(self._callbacks["switch"]):
            self._safe(callback, event)

    def _publish_status(self) -> None:
        link = self._active
        conn = link.connection
        if conn is not None:
            status = PoolStatus(link.id, link.endpoint.kind, link.health.url, "connected", None, link.connected_at,
                                link.hello, self._reason)
            self._connected.set()
        else:
            self._connected.clear()
            state: LinkState = "connecting" if link.health.state == "unknown" else "disconnected"
            status = PoolStatus(link.id, link.endpoint.kind, link.health.url, state, link.health.last_error,
                                reason=self._reason)
        old = self._status
        if (old.endpoint_id, old.state, old.error, old.connected_at, old.reason, old.url) != (
                status.endpoint_id, status.state, status.error, status.connected_at, status.reason, status.url):
            self._set_status(status)

    async def _wait_active(self, timeout: float) -> Link:
        deadline = time.monotonic() + timeout
        asked = time.time()
        while True:
            link = self._active
            if self._usable(link) or (link.connection is not None and link.health.state == "unknown"):
                return link
            remaining = deadline - time.monotonic()
            # Nothing to wait for once every gateway has failed again since the call was made.
            every_one_down = all(lk.health.state == "down" and lk.connection is None
                                 and (lk.health.checked_at or 0) > asked for lk in self._links)
            if remaining <= 0 or every_one_down:
                raise GatewayUnreachable("; ".join(
                    f"{lk.id} ({lk.health.url}): {lk.health.last_error or 'not connected'}" for lk in self._links))
            await self._wait_change(remaining)

    async def _wait_change(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    # --- reconciliation ----------------------------------------------------------------------

    def _start_reconcile(self, local: Link) -> None:
        if self._reconciling is not None and not self._reconciling.done():
            return

        def remote_call(endpoint_id: str) -> Any:
            link = next((lk for lk in self._links if lk.id == endpoint_id and lk.connection is not None), None)
            return (lambda m, p: link.call(m, p, timeout=15)) if link is not None else None

        self._reconciling = self._spawn(reconcile(self.journal, lambda m, p: local.call(m, p, timeout=30),
                                                  remote_call))

    async def reconcile_now(self) -> int:
        """Bring the journal's turns home now (when the local gateway is connected)."""
        local = next((lk for lk in self._links if lk.endpoint.kind == "local"), None)
        if local is None or local.connection is None or not self.journal.turns:
            return 0
        if self._reconciling is not None and not self._reconciling.done():
            await asyncio.gather(self._reconciling, return_exceptions=True)
        self._start_reconcile(local)
        assert self._reconciling is not None
        return await self._reconciling

    # --- plumbing ----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _subscribe(self, kind: str, callback: Callable[..., None]) -> Callable[[], None]:
        self._callbacks[kind].append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks[kind].remove(callback)
        return unsubscribe

    def _dispatch(self, event: str, payload: dict[str, Any]) -> None:
        for callback in list(self._callbacks["event"]):
            self._safe(callback, event, payload)

    def _set_status(self, status: PoolStatus) -> None:
        self._status = status
        for callback in list(self._callbacks["status"]):
            self._safe(callback, status)

    @staticmethod
    def _safe(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("pool callback failed")


__all__ = ["Endpoint", "EndpointHealth", "EndpointPool", "FailoverSettings", "PoolStatus", "SwitchEvent",
           "ChatResult", "GatewayCallError", "GatewayUnreachable", "ClientOptions", "build_pool"]


def build_pool(state_dir: Path, manager: Any, *, local_options: Callable[[], ClientOptions] | None = None,
               local_history: LocalHistory | None = None) -> EndpointPool:
    """The pool of a state dir's config (a ConfigManager): the local gateway, then `remotes` in order."""
    from molt_desktop.client.pool_endpoints import config_endpoints, store_history

    endpoints = config_endpoints(state_dir, manager, local_options=local_options)
    return EndpointPool(endpoints, settings=FailoverSettings.from_config(manager.current.config.failover),
                        journal=RemoteTurnJournal.load(journal_path(state_dir)),
                        local_history=local_history or store_history(state_dir))


def journal_path(state_dir: Path) -> Path:
    return Path(state_dir) / "failover" / "remote-turns.json"
