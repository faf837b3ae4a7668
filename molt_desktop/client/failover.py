"""The endpoint pool: the one gateway client every UI action goes through.

An `EndpointPool` holds the gateways this app can use (today the embedded one on 127.0.0.1),
keeps a connection to the active one, reconnects with backoff when the link drops, and hands
out its events and status changes as plain callbacks (ui/bridge.py makes Qt signals of them).
Callers use `pool.call(method, params)` and never see which endpoint answered, so adding remote
gateways and switching between them changes nothing for them.

Not here: the WebSocket handshake and framing (connection.py), Qt (ui/).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from molt_desktop.client.connection import ClientOptions, GatewayCallError, GatewayConnection, GatewayUnreachable
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

LinkState = Literal["connecting", "connected", "disconnected", "stopped"]
EventCallback = Callable[[str, dict[str, Any]], None]
StatusCallback = Callable[["PoolStatus"], None]

# Backoff between reconnect attempts: quick at first (the local gateway restarts fast), then calm.
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


@dataclass
class Endpoint:
    """A gateway the pool can use. `options` is called for every connect (tokens can change)."""

    id: str
    kind: Literal["local", "remote"]
    options: Callable[[], ClientOptions]

    @property
    def url(self) -> str:
        return self.options().url


@dataclass
class PoolStatus:
    endpoint_id: str | None
    kind: str | None
    url: str | None
    state: LinkState
    error: str | None = None
    connected_at: float | None = None  # time.time() of the current connection
    hello: dict[str, Any] = field(default_factory=dict)

    @property
    def connected(self) -> bool:
        return self.state == "connected"


class EndpointPool:
    def __init__(self, endpoints: list[Endpoint], *, delays: tuple[float, ...] = RECONNECT_DELAYS) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.endpoints = list(endpoints)
        self.delays = delays
        self._active = self.endpoints[0]
        self._conn: GatewayConnection | None = None
        self._connected = asyncio.Event()
        self._status = PoolStatus(self._active.id, self._active.kind, None, "disconnected")
        self._event_callbacks: list[EventCallback] = []
        self._status_callbacks: list[StatusCallback] = []
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False

    # --- what callers use ------------------------------------------------------------------

    @property
    def active(self) -> Endpoint:
        return self._active

    @property
    def status(self) -> PoolStatus:
        return self._status

    @property
    def connection(self) -> GatewayConnection | None:
        return self._conn if self._status.connected else None

    def subscribe_events(self, callback: EventCallback) -> Callable[[], None]:
        """Every event of the active gateway, as `(event, payload)`."""
        self._event_callbacks.append(callback)
        return lambda: self._remove(self._event_callbacks, callback)

    def subscribe_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Called with the new PoolStatus whenever the link changes (connecting, connected, down)."""
        self._status_callbacks.append(callback)
        return lambda: self._remove(self._status_callbacks, callback)

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0,
                   connect_timeout: float = 5.0, expect_final: bool = False) -> Any:
        """Call a method on the active gateway, waiting briefly for a (re)connect if needed.

        Raises GatewayUnreachable when no gateway answers, GatewayCallError for error replies.
        """
        if not self._status.connected:
            try:
                await asyncio.wait_for(self._connected.wait(), connect_timeout)
            except asyncio.TimeoutError:
                raise GatewayUnreachable(self._status.error or "the gateway is not connected") from None
        conn = self._conn
        if conn is None:
            raise GatewayUnreachable(self._status.error or "the gateway is not connected")
        return await conn.call(method, params, timeout=timeout, expect_final=expect_final)

    async def start(self) -> None:
        """Connect in the background; returns at once (status callbacks tell how it goes)."""
        self._stopping = False
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="endpoint-pool")

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def reconnect(self) -> None:
        """Drop the current link (e.g. after a token change); the pool connects again at once."""
        conn = self._conn
        if conn is not None:
            await conn.close()

    async def stop(self) -> None:
        self._stopping = True
        runner, self._runner = self._runner, None
        if self._conn is not None:
            await self._conn.close()
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._set_status(replace(self._status, state="stopped", connected_at=None))

    # --- the connection loop ----------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            endpoint = self._active
            options = endpoint.options()
            self._set_status(PoolStatus(endpoint.id, endpoint.kind, options.url, "connecting",
                                        error=self._status.error))
            conn = GatewayConnection(options, on_event=self._dispatch_event)
            try:
                hello = await conn.connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever went wrong, the pool keeps trying
                error = exc.message if isinstance(exc, GatewayCallError) else str(exc) or type(exc).__name__
                self._set_status(PoolStatus(endpoint.id, endpoint.kind, options.url, "disconnected", error=error))
                delay = self.delays[min(attempt, len(self.delays) - 1)]
                attempt += 1
                await asyncio.sleep(delay)
                continue
            attempt = 0
            self._conn = conn
            self._connected.set()
            self._set_status(PoolStatus(endpoint.id, endpoint.kind, options.url, "connected",
                                        connected_at=time.time(), hello=hello))
            log.info("connected to the %s gateway at %s", endpoint.kind, options.url)
            try:
                await conn.closed.wait()
            finally:
                self._connected.clear()
                self._conn = None
                await conn.close()
            if self._stopping:
                break
            reason = f"connection closed ({conn.close_code})"
            log.info("lost the %s gateway at %s: %s", endpoint.kind, options.url, reason)
            self._set_status(PoolStatus(endpoint.id, endpoint.kind, options.url, "disconnected", error=reason))

    def _dispatch_event(self, event: str, payload: dict[str, Any]) -> None:
        for callback in list(self._event_callbacks):
            try:
                callback(event, payload)
            except Exception:
                log.exception("event callback failed for %s", event)

    def _set_status(self, status: PoolStatus) -> None:
        self._status = status
        for callback in list(self._status_callbacks):
            try:
                callback(status)
            except Exception:
                log.exception("status callback failed")

    @staticmethod
    def _remove(items: list[Any], item: Any) -> None:
        with contextlib.suppress(ValueError):
            items.remove(item)


__all__ = ["Endpoint", "EndpointPool", "PoolStatus", "GatewayCallError", "GatewayUnreachable"]
