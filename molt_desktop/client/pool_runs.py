"""Chat runs in flight: following each `chat.send` of the pool to its end, wherever it goes.

`PoolChats` is the part of `EndpointPool` (failover.py) that owns the runs: it sends a chat to
the active gateway (seeding a remote first), watches its `chat` events, moves it with the same
idempotencyKey when its gateway dies or its local model provider keeps failing, journals turns
answered by a remote, and gives `pool.chat()` for one whole turn. The pool's own state (links,
the active one, callbacks) is declared here only for the type checker.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from molt_desktop.client.connection import GatewayCallError, GatewayUnreachable
from molt_desktop.client.pool_continuity import LocalHistory, RemoteTurn, RemoteTurnJournal, message_text, seed_remote
from molt_desktop.client.pool_link import Endpoint, Link, error_text
from molt_desktop.client.pool_types import ChatResult, FailoverSettings
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

PROVIDER_FAILURES = frozenset({"auth", "network"})
RUN_TTL = 3600.0  # a run nobody heard the end of is forgotten after an hour


@dataclass
class _Run:
    run_id: str
    session_key: str
    params: dict[str, Any]
    link_id: str | None = None
    sending: bool = False
    moving: bool = False
    params_for: dict[str, dict[str, Any]] = field(default_factory=dict)  # what each gateway was sent
    started: float = field(default_factory=time.monotonic)
    sent_at: int = field(default_factory=lambda: int(time.time() * 1000))



class PoolChats:
    settings: FailoverSettings
    journal: RemoteTurnJournal
    _links: list[Link]
    _active: Link
    _local_history: LocalHistory | None
    _runs: dict[str, _Run]
    _finished_on: dict[str, str]
    _provider_failures: dict[str, int]
    _provider_failed_at: dict[str, float]
    _seeded: set[tuple[str, str]]
    _recent: dict[str, list[dict[str, Any]]]
    _stopping: bool

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0,
                   connect_timeout: float = 5.0, expect_final: bool = False) -> Any:
        raise NotImplementedError

    def subscribe_events(self, callback: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        raise NotImplementedError

    async def _wait_active(self, timeout: float) -> Link:
        raise NotImplementedError

    async def _wait_change(self, timeout: float) -> None:
        raise NotImplementedError

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        raise NotImplementedError

    def _dispatch(self, event: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def _evaluate(self, cause: Link | None) -> None:
        raise NotImplementedError

    def _healthy_other(self, link: Link) -> Link | None:
        raise NotImplementedError

    async def chat(self, session_key: str, text: str, *, on_delta: Callable[[str], None] | None = None,
                   timeout: float = 300.0, connect_timeout: float = 10.0) -> ChatResult:
        """One chat turn; `on_delta` gets the new text as it streams (a reply that restarts elsewhere
        with different text starts again on a new line)."""
        run_id = str(uuid.uuid4())
        done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        shown = ""

        def on_event(event: str, payload: dict[str, Any]) -> None:
            nonlocal shown
            if event != "chat" or payload.get("runId") != run_id or done.done():
                return
            state = payload.get("state")
            if state in ("delta", "final") and isinstance(payload.get("message"), dict):
                full = message_text(payload["message"])
                piece = ""
                if full.startswith(shown):
                    piece, shown = full[len(shown):], full
                elif not shown.startswith(full):  # (a moved reply catching up shows nothing twice)
                    piece, shown = "\n" + full, full
                if piece and on_delta is not None:
                    on_delta(piece)
            if state in ("final", "error", "aborted"):
                done.set_result(payload)

        unsubscribe = self.subscribe_events(on_event)
        try:
            await self.call("chat.send", {"sessionKey": session_key, "message": text, "idempotencyKey": run_id},
                            connect_timeout=connect_timeout)
            try:
                payload = await asyncio.wait_for(asyncio.shield(done), timeout)
            except asyncio.TimeoutError:
                return ChatResult(shown, "timeout", run_id, self._endpoint_of(run_id), _("no reply in time"))
        finally:
            unsubscribe()
        endpoint = self._endpoint_of(run_id)
        message = payload.get("message") if isinstance(payload.get("message"), dict) else None
        state = str(payload.get("state"))
        error = str(payload.get("errorMessage") or "") or None if state == "error" else None
        return ChatResult(message_text(message) if message else shown, state, run_id, endpoint, error, message)

    # --- chats in flight --------------------------------------------------------------------

    async def _send_chat(self, params: dict[str, Any], timeout: float, connect_timeout: float) -> Any:
        run_id = str(params["idempotencyKey"])
        self._forget_old_runs()
        run = self._runs.get(run_id)
        if run is None:
            run = self._runs[run_id] = _Run(run_id, str(params.get("sessionKey") or ""), params)
        run.sending = True
        deadline = time.monotonic() + max(connect_timeout, 0.1)
        try:
            while True:
                link = await self._wait_active(max(deadline - time.monotonic(), 0.05))
                run.link_id = link.id
                try:
                    ack = await link.call("chat.send", await self._before_send(link, run), timeout=timeout)
                except GatewayUnreachable:
                    if time.monotonic() >= deadline:
                        self._runs.pop(run_id, None)
                        raise
                    await self._wait_change(0.2)
                    continue
                except BaseException:
                    self._runs.pop(run_id, None)
                    raise
                self._remember(run.session_key, {"role": "user", "content": [{"type": "text",
                                                                              "text": str(params.get("message"))}]})
                return ack
        finally:
            run.sending = False

    async def _before_send(self, link: Link, run: _Run) -> dict[str, Any]:
        """The chat.send params for `link`: a remote is seeded first, and where it cannot take an
        injected note, the note goes before the message (the same text on every re-send there)."""
        if link.id in run.params_for:
            return run.params_for[link.id]
        params = run.params
        key = (link.id, run.session_key)
        if link.endpoint.kind == "remote" and self.settings.seed_turns > 0 and key not in self._seeded:
            self._seeded.add(key)
            local = await self._local_messages(run.session_key)
            # Only our own gateway is known to give injected notes to its model.
            ours = "molt.chat.append" in (link.hello.get("features") or {}).get("methods", [])
            prefix = await seed_remote(lambda m, p: link.call(m, p, timeout=15), run.session_key, local,
                                       self.settings.seed_turns, str(run.params.get("message") or ""), inject=ours)
            if prefix:
                params = {**params, "message": f"{prefix}\n\n---\n\n{params.get('message') or ''}"}
        run.params_for[link.id] = params
        return params

    async def _local_messages(self, session_key: str) -> list[dict[str, Any]]:
        limit = max(self.settings.seed_turns * 4, 8)
        if self._local_history is not None:
            try:
                return await asyncio.to_thread(self._local_history, session_key, limit)
            except Exception as exc:  # a missing or unreadable transcript: use what this pool saw
                log.info("cannot read the local history of %s: %s", session_key, exc)
        return list(self._recent.get(session_key, []))

    def _remember(self, session_key: str, message: dict[str, Any]) -> None:
        recent = self._recent.setdefault(session_key, [])
        recent.append(message)
        del recent[:-max(self.settings.seed_turns * 4, 8)]

    def _track_chat(self, run: _Run, link: Link, payload: dict[str, Any]) -> bool:
        """Follow a run's chat events; False hides an event (an error the pool answers by moving)."""
        state = payload.get("state")
        if state in ("final", "error", "aborted"):
            self._finished_on[run.run_id] = link.id
            while len(self._finished_on) > 1000:
                self._finished_on.pop(next(iter(self._finished_on)))
        if state == "final":
            self._runs.pop(run.run_id, None)
            message = payload.get("message") if isinstance(payload.get("message"), dict) else None
            if message is not None:
                self._remember(run.session_key, message)
            if link.endpoint.kind == "remote":
                self.journal.add(RemoteTurn(link.id, link.endpoint.kind, link.health.url, run.session_key,
                                            run.run_id, str(run.params.get("message") or ""), run.sent_at, message))
            self._provider_failures[link.id] = 0
            self._evaluate(None)
        elif state == "error":
            detail = payload.get("errorDetail")
            kind = (detail.get("failoverReason") if isinstance(detail, dict) else None) or payload.get("errorKind")
            if kind in PROVIDER_FAILURES and link.endpoint.kind == "local":
                count = self._provider_failures.get(link.id, 0) + 1
                self._provider_failures[link.id] = count
                other = self._healthy_other(link)
                if count >= self.settings.provider_fail_after and other is not None:
                    log.warning("the model provider of the local gateway keeps failing (%s); moving chats",
                                payload.get("errorMessage"))
                    self._provider_failed_at[link.id] = time.monotonic()
                    link.mark_provider(True)
                    self._carry_over(run, exclude=link.id)
                    return False
            self._runs.pop(run.run_id, None)
        elif state == "aborted":
            self._runs.pop(run.run_id, None)
        return True

    def _carry_over(self, run: _Run, exclude: str) -> None:
        if run.moving or run.sending:
            return
        run.moving = True
        self._spawn(self._move(run, exclude))

    async def _move(self, run: _Run, exclude: str) -> None:
        deadline = time.monotonic() + self.settings.carry_timeout
        error = "no gateway is available"
        try:
            while not self._stopping and time.monotonic() < deadline:
                link = self._pick(exclude)
                if link is None:
                    await self._wait_change(1.0)
                    continue
                run.link_id = link.id
                try:
                    await link.call("chat.send", await self._before_send(link, run), timeout=30)
                except GatewayUnreachable as exc:
                    error = error_text(exc)
                    await self._wait_change(0.5)
                    continue
                except GatewayCallError as exc:
                    error = exc.message
                    break
                log.info("the reply %s continues on the %s gateway %s", run.run_id, link.endpoint.kind, link.id)
                return
            self._runs.pop(run.run_id, None)
            self._dispatch("chat", {"runId": run.run_id, "sessionKey": run.session_key, "seq": 0, "state": "error",
                                    "errorKind": "unavailable",
                                    "errorMessage": _("The reply was lost: {error}").format(error=error)})
        finally:
            run.moving = False

    def _pick(self, exclude: str) -> Link | None:
        """Where a moved run goes: the active gateway, else any healthy one; its old one last."""
        if self._active.up and self._active.id != exclude:
            return self._active
        for link in self._links:
            if link.up and link.id != exclude and not link.health.provider_failing:
                return link
        old = next((link for link in self._links if link.id == exclude), None)
        if old is not None and old.up and not old.health.provider_failing:
            return old
        return None

    def _endpoint_of(self, run_id: str) -> Endpoint | None:
        link_id = self._finished_on.get(run_id) or (self._runs[run_id].link_id if run_id in self._runs else None)
        link = next((lk for lk in self._links if lk.id == link_id), None)
        return link.endpoint if link is not None else None

    def _forget_old_runs(self) -> None:
        now = time.monotonic()
        for run_id in [r.run_id for r in self._runs.values() if now - r.started > RUN_TTL]:
            self._runs.pop(run_id, None)
