"""The pieces a run is made of: its state, its outcome, delta coalescing, and the queues.

- `Run`: one chat.send / agent request from acceptance to its end.
- `Outcome`: how it ended; the results of chat.send (cached for idempotency), the agent method
  and agent.wait are all derived from it.
- `DeltaCoalescer`: the first text goes out at once, later text at most once per interval
  (50 ms) per run. Every delta carries the whole text so far, so merging loses nothing.
- `ConcurrencyGate`: at most `agents.defaults.maxConcurrent` runs at once (read on every
  acquire, so config changes apply); the rest wait in arrival order.
- `SessionLanes`: runs of one session go one after another, so a transcript never interleaves
  two turns (OpenClaw's per-session lane).
The orchestration is runtime.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from molt_desktop.agent.providers.base import ModelInfo, ProviderError, Usage
from molt_desktop.clock import monotonic, now_ms

RunKind = Literal["chat", "agent"]
OutcomeStatus = Literal["ok", "error", "aborted"]


@dataclass
class Outcome:
    status: OutcomeStatus
    run_id: str
    session_key: str
    text: str = ""
    stop_reason: str = "stop"
    model: ModelInfo | None = None
    usage: Usage | None = None
    error: ProviderError | None = None
    session_id: str | None = None
    started_at: int | None = None
    ended_at: int = field(default_factory=now_ms)

    @property
    def error_message(self) -> str:
        if self.status == "aborted":
            return "Run aborted."
        return self.error.message if self.error else ""

    def chat_result(self) -> dict[str, Any]:
        """The cached chat.send response for a repeated idempotencyKey."""
        if self.status == "error":
            return {"runId": self.run_id, "status": "error", "summary": self.error_message}
        return {"runId": self.run_id, "status": self.status}

    def wait_result(self) -> dict[str, Any]:
        """The agent.wait response."""
        result: dict[str, Any] = {"runId": self.run_id, "status": "ok" if self.status == "ok" else "error",
                                  "startedAt": self.started_at or self.ended_at, "endedAt": self.ended_at}
        if self.status != "ok":
            result["error"] = self.error_message
        return result

    def agent_result(self) -> dict[str, Any]:
        """The second response of the agent method."""
        if self.status == "error":
            return {"runId": self.run_id, "status": "error", "summary": self.error_message}
        from molt_desktop.agent.usage import agent_meta_usage

        meta: dict[str, Any] = {
            "durationMs": max(0, self.ended_at - (self.started_at or self.ended_at)),
            "agentMeta": {
                "sessionId": self.session_id,
                "provider": self.model.provider if self.model else None,
                "model": self.model.id if self.model else None,
                "usage": agent_meta_usage(self.usage),
            },
        }
        if self.status == "aborted":
            meta["aborted"] = True
        return {
            "runId": self.run_id,
            "status": "ok",
            "summary": "aborted" if self.status == "aborted" else "completed",
            "result": {"payloads": [{"text": self.text, "mediaUrl": None}] if self.text else [], "meta": meta},
        }


@dataclass
class Run:
    run_id: str
    kind: RunKind
    session_key: str
    agent_id: str
    message: str
    images: list[dict[str, Any]]
    thinking: str | None
    timeout_s: float | None
    accepted_at: int = field(default_factory=now_ms)
    started_at: int | None = None
    state: Literal["queued", "running", "done"] = "queued"
    abort_reason: str | None = None
    task: asyncio.Task[None] | None = None
    done: asyncio.Future[Outcome] | None = None
    # Filled in while it runs:
    registry: Any = None  # the ProviderRegistry it uses (closed only when no run uses it)
    model: ModelInfo | None = None  # the model being asked right now
    attempt_started_at: int | None = None
    session_id: str | None = None
    user_stored: bool = False  # the user message is in the transcript
    user_write: asyncio.Future[dict[str, Any] | None] | None = None  # storing it (runs with the request)
    finishing: bool = False  # writing its outcome: too late to abort

    def describe(self) -> dict[str, Any]:
        return {"runId": self.run_id, "sessionKey": self.session_key, "kind": self.kind, "state": self.state,
                "acceptedAt": self.accepted_at, "startedAt": self.started_at}


class DeltaCoalescer:
    """Collects text deltas; calls `flush(text_so_far, increment)` at most once per interval."""

    def __init__(self, interval_s: float, flush: Callable[[str, str], None]) -> None:
        self._interval = interval_s
        self._flush_cb = flush
        self.text = ""
        self._pending = ""
        self._last: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def push(self, delta: str) -> None:
        if not delta:
            return
        self.text += delta
        self._pending += delta
        now = monotonic()
        if self._last is None or now - self._last >= self._interval:
            self.flush()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._interval - (now - self._last), self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            pending, self._pending = self._pending, ""
            self._last = monotonic()
            self._flush_cb(self.text, pending)

    def discard(self) -> None:
        """Stop without sending what is pending (the aborted/error event carries the text)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = ""

    def restart(self) -> None:
        """Forget the text (a fallback model starts the reply afresh)."""
        self.discard()
        self.text = ""


class ConcurrencyGate:
    """At most `limit()` holders at once; waiters are served in arrival order."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def active(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._active -= 1
            self._grant()

    async def _acquire(self) -> None:
        if self._active < max(1, self._limit()) and not self._waiters:
            self._active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # The slot was granted just as we were cancelled: hand it on.
                self._active -= 1
                self._grant()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _grant(self) -> None:
        while self._waiters and self._active < max(1, self._limit()):
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(None)


class SessionLanes:
    """One lock per session key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
