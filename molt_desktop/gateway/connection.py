"""One WebSocket connection after the upgrade: its identity, its outgoing queue, its event seq.

Frames leave through one queue per connection, drained by one sender task, so events published
from anywhere (the runtime's callbacks, timers, handlers) keep their `seq` order and a slow
client never blocks the others. A client that lets more than `maxBufferedBytes` pile up is
disconnected instead of growing the gateway's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from molt_desktop.agent.events import for_protocol
from molt_desktop.logs import get_logger
from molt_desktop.protocol.frames import dumps, event_frame

log = get_logger("gateway")

P4_ONLY_EVENTS = frozenset({"sessions.changed", "config.changed"})
CLOSE_SLOW_CONSUMER = 1008


@dataclass
class ConnectionInfo:
    """Who is on the other end, once `connect` succeeded."""

    conn_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remote: str = ""
    is_loopback: bool = False
    protocol: int = 0
    role: str = "operator"
    scopes: frozenset[str] = frozenset()
    client: dict[str, Any] = field(default_factory=dict)
    device_id: str | None = None
    auth_method: str = ""
    connected_ms: int = 0

    @property
    def authenticated(self) -> bool:
        return self.protocol > 0


class Connection:
    def __init__(self, ws: web.WebSocketResponse, info: ConnectionInfo, max_buffered: int) -> None:
        self.ws = ws
        self.info = info
        self._seq = 0
        # Items: (text, size) to send, or (None, close code, reason) to close after what came before.
        self._queue: asyncio.Queue[tuple[str, int] | tuple[None, int, str]] = asyncio.Queue()
        self._buffered = 0
        self._max_buffered = max_buffered
        self._sender: asyncio.Task[None] | None = None
        self._closing = False
        self.tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self._sender = asyncio.create_task(self._drain(), name=f"ws-send-{self.info.conn_id}")

    @property
    def closing(self) -> bool:
        return self._closing or self.ws.closed

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame; never blocks. Oversized backlogs close the connection."""
        if not self.closing:
            self.send_text(dumps(frame))

    def send_text(self, text: str) -> None:
        """Queue a frame already encoded as JSON text."""
        if self.closing:
            return
        size = len(text)
        self._buffered += size
        if self._buffered > self._max_buffered:
            log.warning("closing %s: client is not reading (%d bytes queued)", self.info.conn_id, self._buffered)
            self._closing = True
            task = asyncio.create_task(self._abort(CLOSE_SLOW_CONSUMER, "slow consumer"))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            return
        self._queue.put_nowait((text, size))

    def send_event(self, event: str, payload: dict[str, Any], state_version: dict[str, int] | None = None) -> None:
        if self.closing:
            return
        self._seq += 1
        self.send(event_frame(event, payload, self._seq, state_version))

    def wants(self, event: str) -> bool:
        """Whether this connection should receive a broadcast of `event`."""
        if not self.info.authenticated:
            return False
        if event in ("chat", "agent", "sessions.changed") and not (
            self.info.scopes & {"operator.read", "operator.write", "operator.admin"}
        ):
            return False
        if event in P4_ONLY_EVENTS and self.info.protocol < 4:
            return False
        if event.startswith("device.pair.") and not (self.info.scopes & {"operator.pairing", "operator.admin"}):
            return False
        return True

    def adapt(self, event: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The payload as this connection's protocol version expects it (None: not for it)."""
        return for_protocol(event, payload, self.info.protocol)

    def close_soon(self, code: int, reason: str) -> None:
        """Close after every frame queued so far has been sent (an error frame, then the close)."""
        if self._closing:
            return
        self._closing = True
        self._queue.put_nowait((None, code, reason))

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued, then close with `code` (used for shutdown: event, then 1012)."""
        self.close_soon(code, reason)
        if self._sender is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._sender), 2.0)
        if not self.ws.closed:
            await self._close(code, reason)

    async def _abort(self, code: int, reason: str) -> None:
        """Close without draining: the client is not reading, so the backlog would never leave."""
        if self._sender is not None:
            self._sender.cancel()
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode("utf-8")[:120])

    async def _drain(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item[0] is None:
                    await self._close(item[1], item[2])
                    return
                text, size = item
                self._buffered -= size
                if self.ws.closed:
                    return
                await self.ws.send_str(text)
        except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
            return
        except Exception:  # a broken socket must not take the gateway down
            log.debug("send failed on %s", self.info.conn_id, exc_info=True)

    async def finish(self, timeout: float = 2.0) -> None:
        """Let the sender deliver what is queued (an error frame and the close) before stop()."""
        if self._sender is None or self._sender.done():
            return
        if not self._closing:
            self.close_soon(1000, "")
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._sender), timeout)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
