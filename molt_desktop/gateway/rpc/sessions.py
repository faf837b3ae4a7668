"""Session methods: `sessions.list/preview/patch/reset/delete`, `chat.history`, `chat.inject`.

Blocking store calls run in a worker thread so a large sessions.json or a slow disk never
stalls the event loop (and the other connections with it).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from molt_desktop.clock import now_ms
from molt_desktop.paths import DEFAULT_AGENT_ID
from molt_desktop.gateway.rpc.models import ensure_session, session_defaults
from molt_desktop.gateway.rpc import EncodedPayload
from molt_desktop.logs import get_logger
from molt_desktop.protocol.frames import GatewayError, dumps
from molt_desktop.sessions.keys import is_main_session, session_kind

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext

log = get_logger("gateway")

# Entry fields too large or too internal for a list row (the real gateway leaves them out too).
HIDDEN_ROW_FIELDS = frozenset({"skillsSnapshot", "sessionFile", "systemPromptReport", "compactionCount"})
# What OpenClaw reports as `path` when sessions are not pinned to one store file.
LIST_PATH = "(multiple)"
_LIST_FILTERS = ("search", "label", "activeMinutes", "offset", "limit", "includeLastMessage",
                 "includeDerivedTitles")
PATCHABLE = ("label", "displayName", "model", "modelProvider", "thinkingLevel", "verboseLevel",
             "reasoningLevel", "sendPolicy", "groupActivation", "elevatedLevel", "responseUsage", "pinned")


def _not_found(key: str) -> GatewayError:
    return GatewayError("INVALID_REQUEST", f"session not found: {key}", details={"code": "SESSION_NOT_FOUND"})


def _row(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A sessions.list row as OpenClaw 2026.1.29 builds it: the stored entry without its bulky
    internals, plus `key`, `kind` and a `displayName` (stored name, else label, else origin's)."""
    row: dict[str, Any] = {"key": key, "kind": session_kind(key)}
    row.update(entry)
    row["key"] = key
    for name in HIDDEN_ROW_FIELDS.intersection(row):
        del row[name]
    origin = entry.get("origin")
    display = entry.get("displayName") or entry.get("label") or (
        origin.get("label") if isinstance(origin, dict) else None)
    if display:
        row["displayName"] = display
    return row


class _SortedRows:
    """The rows of one agent's sessions, newest first, rebuilt only when the store's snapshot
    changes (the store hands out a new snapshot object after every write or external edit)."""

    def __init__(self) -> None:
        self._by_agent: dict[str, list[Any]] = {}  # agent -> [entries, rows, rows as JSON or None]
        # One build at a time: a caller arriving during a build (e.g. the startup warm-up) waits
        # for it instead of doing the same work again.
        self._build = threading.Lock()

    def _slot(self, store: Any, agent_id: str) -> list[Any]:
        with self._build:
            entries = store.entries(agent_id)
            cached = self._by_agent.get(agent_id)
            if cached is not None and cached[0] is entries:
                return cached
            ordered = sorted(entries.items(), key=lambda kv: kv[1].get("updatedAt") or 0, reverse=True)
            slot = [entries, [_row(k, e) for k, e in ordered], None]  # holding `entries` keeps its identity
            self._by_agent[agent_id] = slot
            return slot

    def rows(self, store: Any, agent_id: str) -> list[dict[str, Any]]:
        return list(self._slot(store, agent_id)[1])

    def rows_json(self, store: Any, agent_id: str) -> tuple[int, str]:
        """(count, the JSON array of all rows), encoded once per snapshot."""
        slot = self._slot(store, agent_id)
        with self._build:
            if slot[2] is None:
                slot[2] = dumps(slot[1])
            return len(slot[1]), slot[2]


_sorted_rows = _SortedRows()


def warm_session_list(store: Any, agent_id: str = DEFAULT_AGENT_ID) -> None:
    """Blocking: read sessions.json and encode the list once, so the first `sessions.list` (the
    UI's first call) answers from the cache. Run in a worker thread after the gateway listens."""
    try:
        _sorted_rows.rows_json(store, agent_id)
    except Exception as exc:  # a damaged store is reported when someone asks for it
        log.warning("could not prepare the session list: %s", exc)


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and part.get("type") == "text")
    return ""


def changed_payload(key: str, reason: str, entry: dict[str, Any] | None) -> dict[str, Any]:
    """The `sessions.changed` event of one session (also published by the app for changes it makes
    to the store itself, such as a session continued from another device)."""
    payload: dict[str, Any] = {"sessionKey": key, "reason": reason}
    if entry is not None:
        payload["session"] = _row(key, entry)
    return payload


def changed(ctx: RpcContext, key: str, reason: str, entry: dict[str, Any] | None) -> None:
    ctx.server.publish("sessions.changed", changed_payload(key, reason, entry))


async def sessions_list(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any] | EncodedPayload:
    store = ctx.state.store
    agent_id = params.get("agentId") or DEFAULT_AGENT_ID
    defaults = session_defaults(ctx.state.runtime)
    path = LIST_PATH
    if not any(params.get(name) for name in _LIST_FILTERS):
        # The whole list, as UIs and the CLI ask for it: encoded once per store snapshot.
        count, rows_text = await asyncio.to_thread(_sorted_rows.rows_json, store, agent_id)
        return EncodedPayload(f'{{"ts":{now_ms()},"path":{dumps(path)},"count":{count},'
                              f'"defaults":{dumps(defaults)},"sessions":{rows_text}}}')
    rows = await asyncio.to_thread(_sorted_rows.rows, store, agent_id)
    search = (params.get("search") or "").strip()
    if search:
        hits = set(await asyncio.to_thread(store.search, search, agent_id))
        rows = [r for r in rows if r["key"] in hits]
    label = params.get("label")
    if label:
        rows = [r for r in rows if r.get("label") == label]
    active = params.get("activeMinutes")
    if active:
        cutoff = now_ms() - int(active) * 60_000
        rows = [r for r in rows if (r.get("updatedAt") or 0) >= cutoff]
    offset = int(params.get("offset") or 0)
    limit = params.get("limit")
    rows = rows[offset: offset + int(limit)] if limit else rows[offset:]
    if params.get("includeLastMessage") or params.get("includeDerivedTitles"):
        rows = [dict(r) for r in rows]  # the cached rows are shared: decorate copies
        await asyncio.to_thread(_decorate, store, rows, bool(params.get("includeLastMessage")),
                                bool(params.get("includeDerivedTitles")))
    return {"ts": now_ms(), "path": path, "count": len(rows), "defaults": defaults, "sessions": rows}


def _decorate(store: Any, rows: list[dict[str, Any]], last: bool, titles: bool) -> None:
    for row in rows:
        items = store.preview(row["key"], 50 if titles else 1)
        if last and items:
            row["lastMessagePreview"] = items[-1]["text"][:200]
        if titles and not row.get("label"):
            first_user = next((i["text"] for i in items if i["role"] == "user"), "")
            if first_user:
                row["derivedTitle"] = first_user.strip().splitlines()[0][:60]


async def sessions_preview(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    store = ctx.state.store
    limit = int(params.get("limit") or 12)
    previews = []
    for key in params.get("keys") or []:
        items = await asyncio.to_thread(store.preview, key, limit)
        previews.append({"key": key, "status": "ok" if items else "empty", "items": items})
    return {"ts": now_ms(), "previews": previews}


async def sessions_patch(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    store = ctx.state.store
    key = params["key"]
    changes = {name: params[name] for name in PATCHABLE if name in params}
    if "pinned" in changes and changes["pinned"] is not True:
        changes["pinned"] = None  # unpinned sessions carry no field, as before pinning existed
    if "model" in changes:
        # As OpenClaw: the chosen model is a per-session override the next run uses; `model` and
        # `modelProvider` stay what last answered. null goes back to the default model.
        ref = changes.pop("model")
        provider, _sep, model = ref.partition("/") if isinstance(ref, str) and ref.strip() else ("", "", "")
        if not _sep:
            provider, model = "", provider
        changes["providerOverride"] = provider or None
        changes["modelOverride"] = model or None
    entry = await asyncio.to_thread(store.update, key, changes)  # creates a missing session, as OpenClaw does
    changed(ctx, key, "patch", entry)
    return {"ok": True, "path": str(store.sessions_file(DEFAULT_AGENT_ID)), "key": key, "entry": entry}


async def sessions_reset(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    key = params["key"]
    store = ctx.state.store
    if await asyncio.to_thread(store.get, key) is None:
        raise _not_found(key)
    await ctx.state.runtime.abort(key)
    entry = await asyncio.to_thread(store.reset, key)
    changed(ctx, key, "reset", entry)
    return {"ok": True, "key": key, "entry": entry}


async def sessions_delete(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    key = params["key"]
    store = ctx.state.store
    if is_main_session(key):
        raise GatewayError("INVALID_REQUEST", f"Cannot delete the main session ({key}).")
    if await asyncio.to_thread(store.get, key) is None:
        return {"ok": True, "key": key, "deleted": False, "archived": []}
    await ctx.state.runtime.abort(key)
    archived = await asyncio.to_thread(store.delete, key, params.get("deleteTranscript", True) is not False)
    changed(ctx, key, "delete", None)
    return {"ok": True, "key": key, "deleted": True, "archived": [str(p) for p in archived]}


async def chat_history(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    key = params["sessionKey"]
    limit = int(params.get("limit") or 200)
    # A conversation is open: a message may follow, so have the model client ready (idempotent).
    await ctx.state.runtime.start()
    history = await asyncio.to_thread(ctx.state.store.history, key, limit)
    if history is None:
        return {"sessionKey": key, "sessionId": None, "messages": [], "thinkingLevel": "off"}
    return {"sessionKey": key, "sessionId": history.session_id, "messages": history.messages,
            "thinkingLevel": history.thinking_level or "off"}


async def chat_inject(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    key = params["sessionKey"]
    text = params["message"]
    label = params.get("label")
    if label:
        text = f"[{label}]\n\n{text}"
    await asyncio.to_thread(ensure_session, ctx.state.runtime, ctx.state.store, key)
    message = {"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": now_ms(),
               "stopReason": "injected", "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0,
                                                   "totalTokens": 0}}
    message_id = await asyncio.to_thread(ctx.state.store.append_message, key, message)
    entry = await asyncio.to_thread(ctx.state.store.update, key, {})
    changed(ctx, key, "inject", entry)
    return {"ok": True, "messageId": message_id}


HANDLERS: dict[str, Handler] = {
    "sessions.list": sessions_list,
    "sessions.preview": sessions_preview,
    "sessions.patch": sessions_patch,
    "sessions.reset": sessions_reset,
    "sessions.delete": sessions_delete,
    "chat.history": chat_history,
    "chat.inject": chat_inject,
}
