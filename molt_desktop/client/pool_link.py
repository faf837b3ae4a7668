"""One endpoint of the pool: its connection, its probes and its health state.

A `Link` keeps a connection to one gateway open (reconnecting with backoff), probes it with
`health` every `probe_interval` seconds and keeps an `EndpointHealth`: `unknown` until the first
answer, `down` after `fail_after` failed probes in a row (or at once when an open socket dies),
`up` again after `recover_after` good probes in a row. A probe that times out counts as failed, so
a hung gateway (its socket open, its process stopped) is found out too. After a failed probe the
next one comes sooner, so a hang is detected in about one interval plus the probe timeouts.

The link reports to its owner through two callbacks: `on_event(link, event, payload)` for every
event of its connection and `on_change(link, reason)` whenever its health or connection changes.
Choosing the active endpoint and moving chats between endpoints is failover.py's job, not this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from molt_desktop.client.connection import (
    Backoff,
    ClientOptions,
    GatewayCallError,
    GatewayConnection,
    GatewayPairingRequired,
    GatewayUnreachable,
)
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

HealthState = Literal["unknown", "up", "down"]
# Why a link changed: its socket died, probes failed or timed out, it answered again, or it was told.
ChangeReason = Literal["connected", "closed", "probe", "stopped"]


@dataclass(frozen=True)
class Endpoint:
    """A gateway the pool can use. `options` is called for every connect (tokens can change)."""

    id: str
    kind: Literal["local", "remote"]
    options: Callable[[], ClientOptions]

    @property
    def url(self) -> str:
        return self.options().url


@dataclass(frozen=True)
class EndpointHealth:
    id: str
    kind: str
    url: str
    state: HealthState = "unknown"
    connected: bool = False
    latency_ms: float | None = None
    last_ok_at: float | None = None  # time.time()
    last_error: str | None = None
    checked_at: float | None = None
    failures: int = 0  # in a row
    successes: int = 0  # in a row
    provider_failing: bool = False  # set by the pool: chats fail on this gateway's model provider


@dataclass(frozen=True)
class LinkSettings:
    probe_interval: float = 5.0
    fail_after: int = 2
    recover_after: int = 3
    connect_timeout: float = 10.0

    @property
    def probe_timeout(self) -> float:
        """Long enough for a remote across the internet, short enough that a hang is found within
        about one interval plus `fail_after` timeouts."""
        return min(max(self.probe_interval * 0.3, 0.3), 5.0)

    @property
    def retry_after_failure(self) -> float:
        return min(self.probe_interval, 1.0)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, GatewayPairingRequired):
        return str(exc)  # with the request id and the command that approves it
    if isinstance(exc, GatewayCallError):
        return exc.message
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


class Link:
    def __init__(self, endpoint: Endpoint, settings: LinkSettings,
                 on_event: Callable[[Link, str, dict[str, Any]], None],
                 on_change: Callable[[Link, ChangeReason], None]) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self._on_event = on_event
        self._on_change = on_change
        self.conn: GatewayConnection | None = None
        self.connected_at: float | None = None
        self.health = EndpointHealth(endpoint.id, endpoint.kind, self._url())
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._backoff = Backoff(initial=min(1.0, settings.probe_interval), maximum=settings.probe_interval)

    @property
    def id(self) -> str:
        return self.endpoint.id

    @property
    def up(self) -> bool:
        return self.health.state == "up" and self.connection is not None

    @property
    def connection(self) -> GatewayConnection | None:
        conn = self.conn
        return conn if conn is not None and not conn.closed.is_set() else None

    @property
    def hello(self) -> dict[str, Any]:
        return self.conn.hello if self.conn is not None else {}

    def _url(self) -> str:
        try:
            return self.endpoint.url
        except Exception as exc:  # a remote whose secret cannot be read still has a place in the list
            log.warning("endpoint %s: %s", self.endpoint.id, exc)
            return ""

    # --- lifetime ---------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=f"endpoint-{self.endpoint.id}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        runner, self._runner = self._runner, None
        if self.conn is not None:
            await self.conn.close()
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self.conn = None
        self.connected_at = None

    async def drop(self, error: str) -> None:
        """Close the connection now (a hung gateway, a new token); the link connects again itself."""
        conn = self.conn
        if conn is not None:
            self._set(last_error=error)
            await conn.close()

    def probe_now(self) -> None:
        self._wake.set()

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0,
                   expect_final: bool = False) -> Any:
        conn = self.connection
        if conn is None:
            raise GatewayUnreachable(self.health.last_error or f"the {self.endpoint.id} gateway is not connected")
        return await conn.call(method, params, timeout=timeout, expect_final=expect_final)

    # --- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                options = self.endpoint.options()
                if options.url != self.health.url:  # edited in Settings: report the address now in use
                    self._set(url=options.url)
                options.connect_timeout = min(options.connect_timeout, self.settings.connect_timeout)
                conn = GatewayConnection(options, on_event=lambda e, p: self._on_event(self, e, p))
                started = time.monotonic()
                await conn.connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever went wrong, the link keeps trying
                self._failed(error_text(exc))
                await self._sleep(self._backoff.next())
                continue
            self._backoff.reset()
            self.conn = conn
            self.connected_at = time.time()
            log.info("connected to gateway %s (%s) at %s", self.endpoint.id, self.endpoint.kind, options.url)
            self._succeeded((time.monotonic() - started) * 1000, url=options.url)
            self._on_change(self, "connected")
            try:
                await self._probe_while_open(conn)
            finally:
                self.conn = None
                self.connected_at = None
                await conn.close()
            if self._stopping:
                break
            reason = self.health.last_error if self.health.state == "down" else None
            reason = reason or f"connection closed ({conn.close_code})"
            log.info("lost gateway %s (%s): %s", self.endpoint.id, self.endpoint.kind, reason)
            # A socket that dies is a gateway that is down, without waiting for more probes.
            self.health = replace(self.health, state="down", connected=False, last_error=reason,
                                  successes=0, checked_at=time.time())
            self._on_change(self, "closed")
            await self._sleep(self._backoff.next())

    async def _probe_while_open(self, conn: GatewayConnection) -> None:
        delay = self.settings.probe_interval
        while not self._stopping and not conn.closed.is_set():
            await self._sleep(delay, conn.closed)
            if self._stopping or conn.closed.is_set():
                return
            started = time.monotonic()
            try:
                await conn.call("health", {}, timeout=self.settings.probe_timeout)
            except GatewayCallError as exc:
                if exc.code == "FORBIDDEN":  # no read scope: the gateway answered, so it lives
                    self._succeeded((time.monotonic() - started) * 1000)
                    delay = self.settings.probe_interval
                    continue
                self._failed(error_text(exc))
            except (GatewayUnreachable, asyncio.TimeoutError) as exc:
                self._failed(error_text(exc) if not isinstance(exc, asyncio.TimeoutError) else
                             f"no answer to a health probe within {self.settings.probe_timeout:g} s")
            else:
                self._succeeded((time.monotonic() - started) * 1000)
                delay = self.settings.probe_interval
                continue
            delay = self.settings.retry_after_failure
            if self.health.state == "down":
                # Down while the socket stays open: a hung gateway. Drop it, so nothing late from it
                # reaches the UI, and let the loop connect again (a restart answers the handshake).
                await conn.close()
                return

    async def _sleep(self, seconds: float, closed: asyncio.Event | None = None) -> None:
        self._wake.clear()
        waits = [asyncio.ensure_future(self._wake.wait())]
        if closed is not None:
            waits.append(asyncio.ensure_future(closed.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    # --- health -----------------------------------------------------------------------------

    def _succeeded(self, latency_ms: float, url: str | None = None) -> None:
        h = self.health
        successes = h.successes + 1
        state: HealthState = h.state
        if h.state == "unknown" or (h.state == "down" and successes >= self.settings.recover_after):
            state = "up"
        before = h.state
        now = time.time()
        self.health = replace(h, url=url or h.url, state=state, connected=True, latency_ms=round(latency_ms, 1),
                              last_ok_at=now, checked_at=now, failures=0, successes=successes)
        if state != before:
            log.info("gateway %s (%s) is up", self.endpoint.id, self.endpoint.kind)
            self._on_change(self, "probe")

    def _failed(self, error: str) -> None:
        h = self.health
        failures = h.failures + 1
        state: HealthState = "down" if failures >= self.settings.fail_after else h.state
        before = h.state
        self.health = replace(h, state=state, connected=self.connection is not None,
                              last_error=error, checked_at=time.time(), failures=failures, successes=0)
        if state != before:
            log.warning("gateway %s (%s) is down: %s", self.endpoint.id, self.endpoint.kind, error)
            self._on_change(self, "probe")

    def _set(self, **changes: Any) -> None:
        self.health = replace(self.health, **changes)

    def mark_provider(self, failing: bool, *, quiet: bool = False) -> None:
        if self.health.provider_failing != failing:
            self._set(provider_failing=failing)
            if not quiet:
                self._on_change(self, "probe")
