"""`molt.chat.append`: turns made on another gateway, added to this gateway's transcripts.

While the local gateway was away the desktop chatted through a remote one; once it is back the
endpoint pool brings those turns home with this method (client/pool_continuity.py). Each stored
message carries `origin: {endpointId, kind, url, runId}`, so chat.history shows where a turn
came from.

Nothing is stored twice: a runId appended before is skipped whole, and so is what chat.send
wrote here for that runId before the link went away: the user message (its text ends with the
`[message_id: <idempotencyKey>]` line, as OpenClaw writes it, and the runId is that key), and
the reply when it was completed here. The check runs under the transcript's lock
(SessionStore.append_messages, TranscriptState), so two calls cannot both append, and the
append waits for the session's lane, so it never lands inside a turn running here.

Not here: the params shape (protocol/methods.py), the line format (sessions/transcript.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from molt_desktop.clock import now_ms
from molt_desktop.gateway.rpc.models import ensure_session
from molt_desktop.gateway.rpc.sessions import changed
from molt_desktop.logs import get_logger
from molt_desktop.protocol.frames import GatewayError
from molt_desktop.sessions.keys import canonical_session_key
from molt_desktop.sessions.store import SessionStoreError

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext
    from molt_desktop.sessions.transcript import TranscriptState

log = get_logger("gateway")

# What is kept of an appended message, in OpenClaw 2026.1.29's key order; other keys a gateway's
# chat.history adds (`__openclaw`, `responseId`, ...) are its own bookkeeping and not stored.
STORED_KEYS = ("role", "content", "api", "provider", "model", "usage", "stopReason", "errorMessage", "timestamp")


def stored_message(message: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
    """The transcript form of one appended message: content as blocks, a timestamp, its origin."""
    out = {name: copy.deepcopy(message[name]) for name in STORED_KEYS if name in message}
    if isinstance(out.get("content"), str):
        out["content"] = [{"type": "text", "text": out["content"]}]
    timestamp = out.get("timestamp")
    out["timestamp"] = int(timestamp) if isinstance(timestamp, (int, float)) else now_ms()
    out["origin"] = dict(origin)
    return out


def not_yet_stored(run_id: str) -> Callable[[TranscriptState, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The `select` for SessionStore.append_messages: the messages of `run_id` the transcript
    does not hold yet."""

    def select(state: TranscriptState, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if run_id in state.origin_runs:
            return []
        return [m for m in messages
                if run_id not in (state.user_keys if m.get("role") == "user" else state.reply_keys)]

    return select


def _invalid(problem: str) -> GatewayError:
    return GatewayError("INVALID_REQUEST", f"invalid molt.chat.append params: {problem}")


def check_blocks(messages: list[dict[str, Any]]) -> None:
    """What the schema cannot say: a text block's text and an image block's data are strings."""
    for index, message in enumerate(messages):
        content = message.get("content")
        for number, block in enumerate(content if isinstance(content, list) else []):
            field = {"text": "text", "image": "data"}.get(block.get("type"))
            if field is not None and not isinstance(block.get(field), str):
                raise _invalid(f"at /messages/{index}/content/{number}/{field}: must be string")


async def chat_append(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    try:
        key = canonical_session_key(params["sessionKey"])
    except ValueError as exc:
        raise _invalid(f"at /sessionKey: {exc}") from None
    check_blocks(params["messages"])
    run_id: str = params["runId"]
    origin = {**params["origin"], "runId": run_id}
    messages = [stored_message(m, origin) for m in params["messages"]]
    if not messages:
        return {"ok": True, "sessionKey": key, "appended": 0, "skipped": 0}
    store, runtime = ctx.state.store, ctx.state.runtime
    try:
        async with contextlib.AsyncExitStack() as lanes:
            # Runs hold the lane of the key as their client wrote it; hold that one and the
            # stored form, so a turn in progress here is not split by the appended one.
            for lane in sorted({key, params["sessionKey"]}):
                await lanes.enter_async_context(runtime.session_lane(lane))
            await asyncio.to_thread(ensure_session, runtime, store, key)
            written = await asyncio.to_thread(store.append_messages, key, messages, select=not_yet_stored(run_id))
            entry = await asyncio.to_thread(store.update, key, {}) if written else None
    except (SessionStoreError, OSError) as exc:
        raise GatewayError("UNAVAILABLE", f"could not save the turn in {key}: {exc}", retryable=True) from None
    if entry is not None:
        changed(ctx, key, "append", entry)
        log.info("appended %d message(s) of run %s from %s to %s", len(written), run_id,
                 origin.get("endpointId"), key)
    return {"ok": True, "sessionKey": key, "appended": len(written), "skipped": len(messages) - len(written)}


HANDLERS: dict[str, Handler] = {"molt.chat.append": chat_append}
