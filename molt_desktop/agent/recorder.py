"""How a run ends: what it leaves in the transcript and session entry, and its last events.

- answered: the assistant message (content, api, provider, model, usage with cost, stopReason,
  timestamp — key order as OpenClaw 2026.1.29), the session entry's model and token counts
  (`modelProvider, model, contextTokens, abortedLastRun, inputTokens, outputTokens,
  totalTokens`), then lifecycle `end` and chat `final` events, then `sessions.changed`;
- failed: partial text (if any) kept with stopReason "error" and `errorMessage`, then lifecycle
  `error` and chat `error` (errorMessage, errorKind, errorDetail);
- aborted: partial text (if any) kept with stopReason "aborted", `abortedLastRun: true`, then
  lifecycle `end` (aborted) and chat `aborted`.
The transcript is written before the final event, so a client that reloads history on `final`
finds the reply. Writes on the error and abort paths are best effort: the event goes out even
when the disk is full. Store calls block; they run in worker threads.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from molt_desktop.agent.events import Emit, RunEvents
from molt_desktop.agent.providers.base import ModelInfo, ProviderError, Usage
from molt_desktop.agent.runs import DeltaCoalescer, Outcome, Run
from molt_desktop.agent.usage import session_token_fields, usage_record
from molt_desktop.clock import now_ms
from molt_desktop.logs import get_logger

log = get_logger("agent")


class SessionStoreLike(Protocol):
    """What the runtime needs of sessions.store.SessionStore (all blocking)."""

    def get(self, key: str) -> dict[str, Any] | None: ...
    def ensure(self, key: str, *, provider: str, model: str, model_api: str, context_tokens: int,
               thinking_level: str = "off") -> dict[str, Any]: ...
    def append_message(self, key: str, message: dict[str, Any]) -> str: ...
    def history(self, key: str, limit: int = 200) -> Any: ...
    def update(self, key: str, fields: dict[str, Any]) -> dict[str, Any]: ...


def assistant_entry(run: Run, model: ModelInfo, text: str, usage: dict[str, Any], stop: str) -> dict[str, Any]:
    """The transcript assistant message, keys in OpenClaw 2026.1.29's order. Its timestamp is
    when the model was asked, as OpenClaw writes it."""
    return {
        "role": "assistant",
        "content": [{"type": "text", "text": text}] if text else [],
        "api": model.api,
        "provider": model.provider,
        "model": model.id,
        "usage": usage,
        "stopReason": stop,
        "timestamp": run.attempt_started_at or now_ms(),
    }


class RunRecorder:
    def __init__(self, store: SessionStoreLike, emit: Emit) -> None:
        self._store = store
        self._emit = emit

    async def answered(
        self, run: Run, events: RunEvents, model: ModelInfo, usage: Usage | None, stop: str, text: str
    ) -> Outcome:
        run.finishing = True
        record = usage_record(usage, model.cost)
        await asyncio.to_thread(self._store.append_message, run.session_key,
                                assistant_entry(run, model, text, record, stop))
        entry = await asyncio.to_thread(self._store.update, run.session_key, {
            "modelProvider": model.provider, "model": model.id, "contextTokens": model.context_window,
            "abortedLastRun": False, **session_token_fields(usage),
        })
        assert run.started_at is not None
        ended = events.final(text, run.started_at, stop, model.provider, model.id, record)
        self.session_changed(run, entry, "run-end")
        log.info("run %s answered by %s (%d chars, %d ms)", run.run_id, model.ref, len(text),
                 now_ms() - run.started_at)
        return Outcome("ok", run.run_id, run.session_key, text=text, stop_reason=stop, model=model, usage=usage,
                       session_id=run.session_id, started_at=run.started_at, ended_at=ended)

    async def failed(self, run: Run, events: RunEvents, coalescer: DeltaCoalescer, err: ProviderError) -> Outcome:
        run.finishing = True
        coalescer.discard()
        partial = coalescer.text
        if partial and run.user_stored and run.model is not None:
            message = assistant_entry(run, run.model, partial, usage_record(None, run.model.cost), "error")
            message["errorMessage"] = err.message
            await self._store_quietly(run, message, None)
        detail: dict[str, Any] = {
            "provider": err.provider or (run.model.provider if run.model else None),
            "model": err.model or (run.model.id if run.model else None),
            "failoverReason": err.kind,
            "httpStatus": err.status if err.status is not None and 100 <= err.status <= 599 else None,
        }
        ended = events.error(run.started_at, err.message, err.chat_error_kind,
                     {k: v for k, v in detail.items() if v is not None})
        log.warning("run %s failed (%s): %s", run.run_id, err.kind, err.message)
        return Outcome("error", run.run_id, run.session_key, text=partial, model=run.model, error=err,
                       session_id=run.session_id, started_at=run.started_at, ended_at=ended)

    async def aborted(self, run: Run, events: RunEvents, coalescer: DeltaCoalescer) -> Outcome:
        run.finishing = True
        coalescer.discard()
        partial = coalescer.text
        if run.user_stored:
            message = None
            if partial and run.model is not None:
                message = assistant_entry(run, run.model, partial, usage_record(None, run.model.cost), "aborted")
            await self._store_quietly(run, message, {"abortedLastRun": True})
        ended = events.aborted(run.started_at, partial, run.abort_reason or "rpc")
        log.info("run %s aborted (%s)", run.run_id, run.abort_reason)
        return Outcome("aborted", run.run_id, run.session_key, text=partial, stop_reason="aborted", model=run.model,
                       session_id=run.session_id, started_at=run.started_at, ended_at=ended)

    async def _store_quietly(self, run: Run, message: dict[str, Any] | None, fields: dict[str, Any] | None) -> None:
        try:
            if message is not None:
                await asyncio.to_thread(self._store.append_message, run.session_key, message)
            if fields:
                entry = await asyncio.to_thread(self._store.update, run.session_key, fields)
                self.session_changed(run, entry, "run-end")
        except Exception:
            log.exception("run %s: saving the partial reply failed", run.run_id)

    def session_changed(self, run: Run, entry: dict[str, Any] | None, reason: str) -> None:
        """`sessions.changed {sessionKey, agentId, reason, session:{key, ...entry}}`; reasons
        "user-message" (the turn began) and "run-end"."""
        if not entry:
            return
        try:
            self._emit("sessions.changed", {"sessionKey": run.session_key, "agentId": run.agent_id,
                                            "reason": reason, "session": {"key": run.session_key, **entry}})
        except Exception:
            log.exception("emitting sessions.changed failed")
