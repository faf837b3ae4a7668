"""The session store: `agents/<agentId>/sessions/sessions.json` plus one JSONL transcript per session.

What lives here: `SessionStore`, the one object that reads and changes sessions on disk, in the
OpenClaw 2026.1.29 file formats (PROTOCOL.md section 6), so a state dir written by either program
opens unchanged in the other. What does not: the line formats (transcript.py, jsjson.py), what
clients are shown (display.py), key rules (keys.py), full-text search (index.py), and anything
about the gateway or the agent.

Design notes:
- Listing never reads a transcript: `entries()` parses sessions.json once and keeps it until the
  file's mtime/size/inode change (then external edits are seen on the next call).
- The parsed store is copy-on-write: a change builds a new dict and swaps it in, so the dict
  `entries()` returned earlier stays a consistent snapshot. Never mutate what `entries()` returns;
  `get()` and the other methods hand out deep copies.
- sessions.json is rewritten whole (as OpenClaw does) through `fileio.atomic_write`; the JSON text
  of unchanged entries is cached, so saving a 10,000-entry store re-encodes one entry.
- Thread safety: one lock per agent for sessions.json, one lock per transcript file for appends;
  the runtime calls these blocking methods from several runs at once via `asyncio.to_thread`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.clock import now_iso, now_ms
from molt_desktop.fileio import FileWriteError, atomic_write
from molt_desktop.logs import get_logger
from molt_desktop.sessions import display
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.index import AgentIndexes
from molt_desktop.sessions.jsjson import encode_string, js_dumps, js_keys, js_utf8
from molt_desktop.sessions.keys import (
    canonical_session_key,
    is_main_session,
    normalize_agent_id,
    parse_session_key,
)

log = get_logger("sessions")

SESSIONS_FILENAME = "sessions.json"
DEFAULT_AGENT_ID = paths.DEFAULT_AGENT_ID
# sessionId is used as a file name: refuse anything that could leave the sessions dir.
_SAFE_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# What sessions.reset carries over, in the order OpenClaw 2026.1.29 writes the new entry.
_RESET_KEEP = (
    "thinkingLevel", "verboseLevel", "reasoningLevel", "responseUsage", "model", "contextTokens",
    "sendPolicy", "label", "origin", "lastChannel", "lastTo", "skillsSnapshot",
)
_MAX_CACHED_TRANSCRIPTS = 256


class SessionStoreError(OSError):
    """sessions.json or a transcript could not be saved or read; the message says what to do."""


@dataclass(frozen=True)
class History:
    """What chat.history needs. `thinking_level` is the entry's own setting (None: use the
    configured / model default, which the store does not know)."""

    session_id: str | None
    messages: list[dict[str, Any]]
    thinking_level: str | None


class _AgentFile:
    """The cached sessions.json of one agent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.signature: tuple[int, int, int] | None = None
        self.raw: dict[str, Any] = {}
        self.view: dict[str, dict[str, Any]] = {}
        self.corrupt: bytes | None = None
        self.chunks: dict[str, tuple[Any, str]] = {}


class SessionStore:
    """Sessions of every agent under one state dir (see the module docstring)."""

    def __init__(self, state_dir: Path, *, workspace: Path | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.workspace = workspace if workspace is not None else paths.workspace_dir(self.state_dir)
        self._lock = threading.Lock()
        self._agents: dict[str, _AgentFile] = {}
        self._file_locks: dict[str, threading.Lock] = {}
        self._tstates = tx.TranscriptStateCache(_MAX_CACHED_TRANSCRIPTS)
        self._search = AgentIndexes(paths.cache_dir(self.state_dir))

    # --- locations --------------------------------------------------------------------------

    def sessions_file(self, agent_id: str = DEFAULT_AGENT_ID) -> Path:
        return paths.sessions_dir(self.state_dir, normalize_agent_id(agent_id)) / SESSIONS_FILENAME

    def transcript_path(self, entry: dict[str, Any], agent_id: str = DEFAULT_AGENT_ID) -> Path:
        """`<sessions dir>/<sessionId>.jsonl`. An entry's `sessionFile` is honoured only by its
        file name (OpenClaw writes absolute paths, which break when a state dir moves), and only
        when that file exists in the sessions dir. ValueError when the sessionId is unusable."""
        session_id = entry.get("sessionId")
        if not isinstance(session_id, str) or not _SAFE_SESSION_ID.match(session_id):
            raise ValueError(f"session entry has no usable sessionId ({session_id!r})")
        directory = self._agent(agent_id).path.parent
        session_file = entry.get("sessionFile")
        if isinstance(session_file, str) and not session_file.endswith(f"{session_id}.jsonl"):
            name = re.split(r"[\\/]", session_file.strip())[-1]
            if (
                name.startswith(session_id)
                and name != f"{session_id}.jsonl"
                and name.endswith(".jsonl")
                and _SAFE_SESSION_ID.match(name)
                and (directory / name).is_file()
            ):
                return directory / name
        return directory / f"{session_id}.jsonl"

    # --- sessions.json ----------------------------------------------------------------------

    def _agent(self, agent_id: str) -> _AgentFile:
        agent = normalize_agent_id(agent_id)
        with self._lock:
            found = self._agents.get(agent)
            if found is None:
                found = self._agents[agent] = _AgentFile(self.sessions_file(agent))
            return found

    def _refresh(self, af: _AgentFile) -> None:
        """Re-read sessions.json when it changed on disk (caller holds af.lock)."""
        try:
            st = os.stat(af.path)
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            if signature == af.signature:
                return
            data = af.path.read_bytes()
        except FileNotFoundError:
            af.raw, af.view, af.chunks, af.corrupt, af.signature = {}, {}, {}, None, None
            return
        except OSError as exc:
            raise SessionStoreError(exc.errno, f"could not read {af.path}: {exc.strerror}") from exc
        try:
            parsed = json.loads(data) if data.strip() else {}
            if not isinstance(parsed, dict):
                raise ValueError("not a JSON object")
            af.corrupt = None
        except (ValueError, RecursionError) as exc:
            log.error(
                "%s is damaged (%s); no sessions are listed from it. It will be kept as "
                "%s.corrupt.<time> when the sessions list is next saved.", af.path, exc, af.path.name
            )
            parsed, af.corrupt = {}, data
        af.raw = parsed
        af.view = self._view_of(parsed)
        af.chunks = {}
        af.signature = signature

    @staticmethod
    def _view_of(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
        if all(isinstance(value, dict) for value in raw.values()):
            return raw
        return {key: value for key, value in raw.items() if isinstance(value, dict)}

    def _serialize(self, af: _AgentFile, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """JSON.stringify(store, null, 2), re-encoding only entries not encoded before."""
        if not raw:
            return "{}", {}
        old, chunks = af.chunks, {}
        for key in js_keys(raw):
            value = raw[key]
            cached = old.get(key)
            if cached is None or cached[0] is not value:
                cached = (value, "  " + encode_string(key) + ": " + js_dumps(value, 2, level=1))
            chunks[key] = cached
        return "{\n" + ",\n".join(text for _, text in chunks.values()) + "\n}", chunks

    def _save(self, af: _AgentFile, raw: dict[str, Any], only_dicts_changed: bool = True) -> None:
        """Write `raw` as sessions.json (caller holds af.lock); the cache follows only on success.
        `only_dicts_changed`: raw differs from af.raw only by removals or dict-valued entries."""
        text, chunks = self._serialize(af, raw)
        try:
            tx.make_private_dirs(af.path.parent)
            if af.corrupt is not None:
                backup = af.path.with_name(f"{af.path.name}.corrupt.{now_iso().replace(':', '-')}")
                atomic_write(backup, af.corrupt)
                log.warning("kept the damaged sessions list as %s", backup)
            atomic_write(af.path, js_utf8(text))
            st = os.stat(af.path)
        except OSError as exc:
            reason = exc.strerror if isinstance(exc, FileWriteError) else f"{af.path}: {exc}"
            raise SessionStoreError(
                exc.errno,
                f"{reason}. The sessions list was not changed; free some disk space or fix the "
                f"permissions of {af.path.parent}, then try again.",
            ) from exc
        view = raw if only_dicts_changed and af.view is af.raw else self._view_of(raw)
        af.raw, af.view, af.chunks, af.corrupt = raw, view, chunks, None
        af.signature = (st.st_mtime_ns, st.st_size, st.st_ino)

    def entries(self, agent_id: str = DEFAULT_AGENT_ID) -> dict[str, dict[str, Any]]:
        """sessionKey -> entry of one agent. A shared read-only snapshot: do not modify it."""
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            return af.view

    def _resolve(self, key: str) -> tuple[str, str]:
        skey = canonical_session_key(key)
        return parse_session_key(skey)[0], skey

    @staticmethod
    def _find(af: _AgentFile, key: str, skey: str) -> tuple[str, dict[str, Any] | None]:
        """The stored key and entry; a stored key that is not canonical (legacy) also matches."""
        entry = af.raw.get(skey)
        if entry is None and isinstance(key, str) and key.strip() in af.raw:
            skey = key.strip()
            entry = af.raw[skey]
        return skey, entry if isinstance(entry, dict) else None

    def _lookup(self, key: str) -> tuple[str, str, dict[str, Any] | None]:
        agent_id, skey = self._resolve(key)
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            skey, entry = self._find(af, key, skey)
        return agent_id, skey, entry

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of the entry of `key`, None if there is none (ValueError for a malformed key)."""
        entry = self._lookup(key)[2]
        return copy.deepcopy(entry) if entry is not None else None

    def update(self, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge `fields` into the entry (None deletes a field), bump updatedAt, save atomically.
        A missing entry is created with a new sessionId, as sessions.patch does in OpenClaw."""
        if not isinstance(fields, dict):
            raise ValueError("session fields must be an object")
        agent_id, skey = self._resolve(key)
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            skey, old = self._find(af, key, skey)
            entry = dict(old) if old is not None else {
                "sessionId": str(uuid.uuid4()), "updatedAt": now_ms()
            }
            for name, value in fields.items():
                if value is None:
                    entry.pop(name, None)
                else:
                    entry[name] = copy.deepcopy(value)
            if not isinstance(fields.get("updatedAt"), int):
                entry["updatedAt"] = now_ms()
            if not isinstance(entry.get("sessionId"), str):
                raise ValueError("a session entry needs a string sessionId")
            try:
                js_dumps(entry)
            except (TypeError, RecursionError) as exc:
                raise ValueError(f"session fields are not JSON: {exc}") from exc
            self._save(af, {**af.raw, skey: entry})
        return copy.deepcopy(entry)

    def reset(self, key: str) -> dict[str, Any]:
        """A new sessionId and zero tokens, keeping label, model and channel fields (OpenClaw's
        sessions.reset). The old transcript stays on disk, as 2026.1.29 leaves it."""
        agent_id, skey = self._resolve(key)
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            skey, found = self._find(af, key, skey)
            old = found or {}
            entry: dict[str, Any] = {
                "sessionId": str(uuid.uuid4()), "updatedAt": now_ms(),
                "systemSent": False, "abortedLastRun": False,
            }
            for name in _RESET_KEEP:
                if name in old:
                    entry[name] = old[name]
            entry.update(inputTokens=0, outputTokens=0, totalTokens=0)
            if "deliveryContext" in old:
                entry["deliveryContext"] = old["deliveryContext"]
            self._save(af, {**af.raw, skey: entry})
        return copy.deepcopy(entry)

    def delete(self, key: str, delete_transcript: bool = True) -> list[str]:
        """Remove the entry; rename its transcript to `<id>.jsonl.deleted.<ISO time, : as ->`.
        Returns the archived paths. ValueError for the main session."""
        agent_id, skey = self._resolve(key)
        if is_main_session(skey):
            raise ValueError(f"Cannot delete the main session ({skey}).")
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            skey, entry = self._find(af, key, skey)
            if skey not in af.raw:
                return []
            self._save(af, {k: v for k, v in af.raw.items() if k != skey})
        self._search.notify(agent_id, "remove", skey)
        if not delete_transcript or entry is None:
            return []
        try:
            path = self.transcript_path(entry, agent_id)
        except ValueError:
            return []
        with self._file_lock(path):
            self._tstates.forget(path)
            if not path.exists():
                return []
            target = path.with_name(f"{path.name}.deleted.{now_iso().replace(':', '-')}")
            try:
                os.replace(path, target)
            except OSError as exc:
                log.warning("could not archive transcript %s: %s", path, exc)
                return []
        return [str(target)]

    # --- transcripts ------------------------------------------------------------------------

    def _file_lock(self, path: Path) -> threading.Lock:
        with self._lock:
            lock = self._file_locks.get(str(path))
            if lock is None:
                lock = self._file_locks[str(path)] = threading.Lock()
            return lock

    def _header(self, entry: dict[str, Any], ts: int) -> dict[str, Any]:
        return tx.session_header(entry["sessionId"], str(self.workspace), ts)

    def record_model(
        self, key: str, *, provider: str, model: str, model_api: str | None,
        thinking_level: str | None = None,
    ) -> None:
        """Append model_change / thinking_level_change / model-snapshot lines for whatever differs
        from the transcript's current model (what OpenClaw writes when a run switches model)."""
        agent_id, _, entry = self._lookup(key)
        if entry is None:
            raise KeyError(f"no session {key!r}")
        path = self.transcript_path(entry, agent_id)
        with self._file_lock(path):
            known = self._tstates.known(path)
            if known is not None and known.count and not tx.model_entries(
                    known, provider, model, model_api, thinking_level, 0):
                return  # the usual case: same model as the last turn, nothing to write
            with tx.TranscriptWriter(path) as writer:
                self._record_model(path, writer, entry, provider, model, model_api, thinking_level)

    def _record_model(self, path: Path, writer: tx.TranscriptWriter, entry: dict[str, Any], provider: str,
                      model: str, model_api: str | None, thinking_level: str | None) -> None:
        state = self._tstates.get(path, writer)
        ts = now_ms()
        lines = [self._header(entry, ts)] if state.count == 0 else []
        lines += tx.model_entries(state, provider, model, model_api, thinking_level, ts)
        tx.write_entries(writer, state, lines)

    def ensure(
        self, key: str, *, provider: str, model: str, model_api: str, context_tokens: int,
        thinking_level: str = "off",
    ) -> dict[str, Any]:
        """The entry of `key`, created if missing (new uuid4 sessionId), and its transcript with
        the header lines 2026.1.29 writes (session, model_change, thinking_level_change,
        model-snapshot); an existing transcript gets model lines only for what changed."""
        agent_id, skey = self._resolve(key)
        af = self._agent(agent_id)
        with af.lock:
            self._refresh(af)
            skey, entry = self._find(af, key, skey)
            if entry is not None and not _SAFE_SESSION_ID.match(str(entry.get("sessionId"))):
                entry = {**entry, "sessionId": str(uuid.uuid4()), "updatedAt": now_ms()}
                self._save(af, {**af.raw, skey: entry})  # an edited entry lost its sessionId
            if entry is None:
                session_id = str(uuid.uuid4())
                chat_type = "direct"
                if ":group:" in skey or ":channel:" in skey:
                    chat_type = "group" if ":group:" in skey else "channel"
                entry = {
                    "sessionId": session_id, "updatedAt": now_ms(), "systemSent": False,
                    "abortedLastRun": False, "chatType": chat_type,
                    "sessionFile": str(self.transcript_path({"sessionId": session_id}, agent_id)),
                    "inputTokens": 0, "outputTokens": 0, "totalTokens": 0,
                    "modelProvider": provider, "model": model, "contextTokens": context_tokens,
                }
                self._save(af, {**af.raw, skey: entry})
        self.record_model(skey, provider=provider, model=model, model_api=model_api,
                          thinking_level=thinking_level)
        return copy.deepcopy(entry)

    def append_message(self, key: str, message: dict[str, Any]) -> str:
        """Append a `message` entry chained to the last entry; returns its id. The session must
        exist (KeyError); a missing transcript is started with its header first."""
        return self.append_messages(key, [message])[0]

    def append_messages(
        self, key: str, messages: list[dict[str, Any]], *,
        select: Callable[[tx.TranscriptState, list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    ) -> list[str]:
        """Append `messages` in order with one write; returns the ids of the lines written.
        `select(state, messages)` runs under the transcript's lock and returns the messages to
        write, so a caller can leave out what the transcript already holds without a race."""
        for message in messages:
            if not isinstance(message, dict):
                raise ValueError("message must be an object")
            try:
                js_dumps(message)
            except (TypeError, RecursionError) as exc:
                raise ValueError(f"message is not JSON: {exc}") from exc
        agent_id, skey, entry = self._lookup(key)
        if entry is None:
            raise KeyError(f"no session {key!r}; create it with ensure() first")
        path = self.transcript_path(entry, agent_id)
        with self._file_lock(path), tx.TranscriptWriter(path) as writer:
            state = self._tstates.get(path, writer)
            chosen = select(state, messages) if select is not None else messages
            if not chosen:
                return []
            before = (state.size, state.mtime_ns)
            ts = now_ms()
            lines: list[dict[str, Any]] = []
            if state.count == 0:
                lines.append(self._header(entry, ts))
                provider, model = entry.get("modelProvider"), entry.get("model")
                if isinstance(provider, str) and isinstance(model, str):
                    level = entry.get("thinkingLevel")
                    level = level if isinstance(level, str) else "off"
                    lines += tx.model_entries(state, provider, model, None, level, ts)
            parent = lines[-1]["id"] if len(lines) > 1 else state.last_id
            taken = state.ids | {line["id"] for line in lines}
            written: list[str] = []
            for message in chosen:
                line = tx.message_entry(message, parent_id=parent, entry_id=tx.new_entry_id(taken), ts_ms=ts)
                lines.append(line)
                parent = line["id"]
                taken.add(parent)
                written.append(parent)
            tx.write_entries(writer, state, lines)
            after = (state.size, state.mtime_ns)
        text = "\n".join(display.message_text(display.display_message(m)) for m in chosen)
        self._search.notify(agent_id, "note_append", skey, path, text, before, after)
        return written

    def history(self, key: str, limit: int | None = 200) -> History:
        """The last `limit` messages as chat.history returns them (None: all)."""
        agent_id, _, entry = self._lookup(key)
        if entry is None:
            return History(None, [], None)
        session_id = entry.get("sessionId") if isinstance(entry.get("sessionId"), str) else None
        level = entry.get("thinkingLevel") if isinstance(entry.get("thinkingLevel"), str) else None
        try:
            path = self.transcript_path(entry, agent_id)
        except ValueError:
            return History(session_id, [], level)
        try:
            messages = display.history_messages(tx.read_transcript(path))
        except tx.TranscriptError as exc:
            raise SessionStoreError(exc.errno, str(exc.strerror)) from exc
        if limit is not None:
            messages = messages[-limit:] if limit > 0 else []
        return History(session_id, messages, level)

    def preview(self, key: str, limit: int = 12, max_chars: int = 240) -> list[dict[str, str]]:
        """The last `limit` messages as `{role, text}` (sessions.preview), text cut at max_chars."""
        messages = self.history(key, limit=None).messages
        items = [item for m in messages if (item := display.preview_item(m, max_chars)) is not None]
        return items[-limit:] if limit > 0 else []

    # --- search -----------------------------------------------------------------------------

    def search(self, query: str, agent_id: str = DEFAULT_AGENT_ID, limit: int = 50) -> list[str]:
        """Keys of sessions whose key, label, displayName or messages contain every word of
        `query` (substring match, so Chinese works), most recently updated first."""
        agent = normalize_agent_id(agent_id)
        try:
            keys = self._search.search(self, agent, query)
        except sqlite3.DatabaseError as exc:
            raise SessionStoreError(f"session search failed: {exc}") from exc
        current = self.entries(agent)
        found = [k for k in keys if k in current]
        found.sort(key=lambda k: _updated_at(current[k]), reverse=True)
        return found[:limit]

    def close(self) -> None:
        self._search.close()


def _updated_at(entry: dict[str, Any]) -> int:
    value = entry.get("updatedAt")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
