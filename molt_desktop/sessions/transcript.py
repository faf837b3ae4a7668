"""Transcripts: the append-only JSONL files `<sessionId>.jsonl`, byte for byte as OpenClaw writes.

What lives here: builders for the entry lines OpenClaw 2026.1.29 writes (`session` header,
`model_change`, `thinking_level_change`, `custom` model-snapshot, `message`), `TranscriptWriter`
(one line per entry, flushed and fsynced, a torn last line repaired before the first append),
`read_transcript` (never crashes on a damaged file), and the append state of a transcript (last
entry id, current model). What does not: which file belongs to which session key and
sessions.json (store.py), what clients are shown of a transcript (display.py).

Any entry type we do not build (`compaction`, `label`, `session_info`, protocol-4 exports...) is
read and returned unchanged; nothing here rewrites an existing line.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop.clock import iso_from_ms, now_ms
from molt_desktop.logs import get_logger
from molt_desktop.sessions.jsjson import js_dumps, js_utf8

log = get_logger("sessions")

TRANSCRIPT_VERSION = 3
_READ_CHUNK = 64 * 1024
_OPEN_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_MESSAGE_ID_HINT = re.compile(r"^\s*\[message_id:\s*([^\]]+?)\s*\]\s*$", re.MULTILINE)


class TranscriptError(OSError):
    """A transcript could not be read or appended to; the message names the file and the cause."""


# --- entry lines (key order as in state-2026.1.29/*.jsonl) ---------------------------------------


def encode_line(entry: dict[str, Any]) -> bytes:
    """One transcript line: compact JSON + "\\n" (TypeError for values JSON cannot hold)."""
    return js_utf8(js_dumps(entry)) + b"\n"


def new_entry_id(taken: Container[str] = ()) -> str:
    """8 hex digits, like pi-coding-agent's entry ids; retried while it collides with `taken`."""
    while True:
        entry_id = secrets.token_hex(4)
        if entry_id not in taken:
            return entry_id


def session_header(session_id: str, cwd: str, ts_ms: int | None = None) -> dict[str, Any]:
    return {
        "type": "session",
        "version": TRANSCRIPT_VERSION,
        "id": session_id,
        "timestamp": iso_from_ms(now_ms() if ts_ms is None else ts_ms),
        "cwd": cwd,
    }


def model_change_entry(
    provider: str, model_id: str, *, parent_id: str | None, entry_id: str | None = None,
    ts_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "type": "model_change",
        "id": entry_id or new_entry_id(),
        "parentId": parent_id,
        "timestamp": iso_from_ms(now_ms() if ts_ms is None else ts_ms),
        "provider": provider,
        "modelId": model_id,
    }


def thinking_level_entry(
    level: str, *, parent_id: str | None, entry_id: str | None = None, ts_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "type": "thinking_level_change",
        "id": entry_id or new_entry_id(),
        "parentId": parent_id,
        "timestamp": iso_from_ms(now_ms() if ts_ms is None else ts_ms),
        "thinkingLevel": level,
    }


def model_snapshot_entry(
    provider: str, model_api: str, model_id: str, *, parent_id: str | None,
    entry_id: str | None = None, ts_ms: int | None = None,
) -> dict[str, Any]:
    ts = now_ms() if ts_ms is None else ts_ms
    return {
        "type": "custom",
        "customType": "model-snapshot",
        "data": {"timestamp": ts, "provider": provider, "modelApi": model_api, "modelId": model_id},
        "id": entry_id or new_entry_id(),
        "parentId": parent_id,
        "timestamp": iso_from_ms(ts),
    }


def message_entry(
    message: dict[str, Any], *, parent_id: str | None, entry_id: str | None = None,
    ts_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": entry_id or new_entry_id(),
        "parentId": parent_id,
        "timestamp": iso_from_ms(now_ms() if ts_ms is None else ts_ms),
        "message": message,
    }


# --- reading -------------------------------------------------------------------------------------


def _parse_line(raw: bytes) -> Any:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        # Node reads with replacement characters; so do we rather than lose the line.
        return json.loads(raw.decode("utf-8", errors="replace"))


def parse_transcript(data: bytes, name: str = "transcript") -> list[dict[str, Any]]:
    """Entries of a transcript's bytes. A torn last line (no newline, not JSON) is ignored; other
    damaged lines are skipped with one warning per file."""
    lines = data.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline
    entries: list[dict[str, Any]] = []
    bad = 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            value = _parse_line(raw)
        except (ValueError, RecursionError):
            bad += 1
            continue
        if isinstance(value, dict):
            entries.append(value)
        else:
            bad += 1
    if torn.strip():
        try:
            value = _parse_line(torn)
        except (ValueError, RecursionError):
            value = None
            log.info("ignoring an unfinished last line in %s (%d bytes)", name, len(torn))
        if isinstance(value, dict):
            entries.append(value)
    if bad:
        log.warning("skipped %d damaged line(s) in %s", bad, name)
    return entries


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """All entries of a transcript; [] when it does not exist. TranscriptError when unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise TranscriptError(
            exc.errno, f"could not read transcript {path}: {exc.strerror or exc}"
        ) from exc
    return parse_transcript(data, path.name)


# --- writing -------------------------------------------------------------------------------------


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def _pread(fd: int, length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread; appends still go to the end
    return os.read(fd, length)


def _last_newline(fd: int, size: int) -> int:
    """Offset just after the last b"\\n" before `size` (0 when there is none)."""
    end = size
    while end > 0:
        start = max(0, end - _READ_CHUNK)
        chunk = _pread(fd, end - start, start)
        pos = chunk.rfind(b"\n")
        if pos >= 0:
            return start + pos + 1
        end = start
    return 0


class TranscriptWriter:
    """Appends entries to one transcript: one line each, flushed and fsynced before returning.

    Opening repairs a torn last line (a writer killed mid-line): a complete JSON object that only
    lacks its newline gets the newline, anything else is cut back to the last newline. Use as a
    context manager; not thread-safe by itself (the store serialises writers per file).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.size = 0

    def open(self) -> TranscriptWriter:
        try:
            make_private_dirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _OPEN_FLAGS, 0o600)
        except OSError as exc:
            raise TranscriptError(
                exc.errno, f"could not open transcript {self.path}: {exc.strerror or exc}"
            ) from exc
        self._fd = fd
        try:
            self.size = os.fstat(fd).st_size
            self._repair()
        except OSError as exc:
            self.close()
            raise TranscriptError(
                exc.errno, f"could not repair transcript {self.path}: {exc.strerror or exc}"
            ) from exc
        return self

    def _repair(self) -> None:
        fd = self._require_fd()
        if self.size == 0 or _pread(fd, 1, self.size - 1) == b"\n":
            return
        keep = _last_newline(fd, self.size)
        tail = _pread(fd, self.size - keep, keep)
        try:
            complete = isinstance(_parse_line(tail), dict)
        except (ValueError, RecursionError):
            complete = False
        if complete:
            # A JSON object cannot be cut short and still parse: only the newline is missing.
            self._write_all(b"\n")
            self.size += 1
            return
        log.warning(
            "cutting an unfinished last line (%d bytes) from %s", self.size - keep, self.path.name
        )
        os.ftruncate(fd, keep)
        os.fsync(fd)
        self.size = keep

    def _require_fd(self) -> int:
        if self._fd is None:
            raise TranscriptError(f"transcript {self.path} is not open")
        return self._fd

    def _write_all(self, data: bytes) -> None:
        fd = self._require_fd()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def append(self, entry: dict[str, Any]) -> int:
        """Write one entry as one line, fsync, return the bytes written."""
        line = encode_line(entry)
        fd = self._require_fd()
        try:
            self._write_all(line)
            os.fsync(fd)
        except OSError as exc:
            # Take back a partial line so the file stays a list of whole entries.
            try:
                os.ftruncate(fd, self.size)
            except OSError:
                pass
            raise TranscriptError(
                exc.errno, f"could not append to transcript {self.path}: {exc.strerror or exc}"
            ) from exc
        self.size += len(line)
        return len(line)

    def append_all(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            self.append(entry)

    def stat(self) -> os.stat_result:
        return os.fstat(self._require_fd())

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> TranscriptWriter:
        return self.open() if self._fd is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- appending state ------------------------------------------------------------------------------


@dataclass
class TranscriptState:
    """What appending needs to know about a transcript, kept while its size/mtime are ours."""

    size: int = 0
    mtime_ns: int = 0
    count: int = 0
    last_id: str | None = None
    ids: set[str] = field(default_factory=set)
    provider: str | None = None
    model_id: str | None = None
    thinking_level: str | None = None
    snapshot: tuple[str, str, str] | None = None
    # Run ids the transcript already holds (molt.chat.append skips them): the idempotencyKey of
    # user messages chat.send stored and of the replies completed for them here, and the
    # `origin.runId` of messages appended from another gateway.
    user_keys: set[str] = field(default_factory=set)
    reply_keys: set[str] = field(default_factory=set)
    origin_runs: set[str] = field(default_factory=set)
    _open_run: str | None = None  # the run of the last user message while its reply is awaited

    @classmethod
    def scan(cls, path: Path, st: os.stat_result) -> TranscriptState:
        """The state of the transcript at `path`, whose stat (after repair) is `st`."""
        state = cls()
        for entry in read_transcript(path):
            state.apply(entry)
        state.size, state.mtime_ns = st.st_size, st.st_mtime_ns
        return state

    def apply(self, entry: dict[str, Any]) -> None:
        self.count += 1
        kind = entry.get("type")
        if kind == "session":
            return  # the header's id is the sessionId, not part of the parentId chain
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            self.last_id = entry_id
            self.ids.add(entry_id)
        if kind == "model_change":
            provider, model_id = entry.get("provider"), entry.get("modelId")
            if isinstance(provider, str) and isinstance(model_id, str):
                self.provider, self.model_id = provider, model_id
        elif kind == "message":
            self._note_run(entry.get("message"))
        elif kind == "thinking_level_change" and isinstance(entry.get("thinkingLevel"), str):
            self.thinking_level = entry["thinkingLevel"]
        elif kind == "custom" and entry.get("customType") == "model-snapshot":
            data = entry.get("data")
            if isinstance(data, dict):
                snap = (data.get("provider"), data.get("modelApi"), data.get("modelId"))
                if all(isinstance(part, str) for part in snap):
                    self.snapshot = snap  # type: ignore[assignment]

    def _note_run(self, message: Any) -> None:
        """Keep track of which runs the transcript holds. chat.send's user message ends with
        OpenClaw's `[message_id: <idempotencyKey>]` hint line: the run id, in the place OpenClaw
        2026.1.29 writes it (transcripts stay byte for byte the same). A reply that completed
        (not stopped by an error or an abort) right after it belongs to that run."""
        if not isinstance(message, dict):
            return
        role = message.get("role")
        origin = message.get("origin")
        if isinstance(origin, dict) and isinstance(origin.get("runId"), str):
            self.origin_runs.add(origin["runId"])
        if role == "user":
            self._open_run = None
            content = message.get("content")
            for part in content if isinstance(content, list) else [{"text": content}]:
                text = part.get("text") if isinstance(part, dict) else None
                if isinstance(text, str) and "[message_id:" in text:
                    for key in _MESSAGE_ID_HINT.findall(text):
                        self.user_keys.add(key)
                        self._open_run = key
        elif role == "assistant" and self._open_run is not None and message.get("stopReason") != "injected":
            if message.get("stopReason") not in ("error", "aborted"):
                self.reply_keys.add(self._open_run)
            self._open_run = None  # the run ended here, with or without its reply


def model_entries(
    state: TranscriptState, provider: str | None, model: str | None, model_api: str | None,
    thinking_level: str | None, ts: int,
) -> list[dict[str, Any]]:
    """model_change / thinking_level_change / model-snapshot lines for what differs from `state`
    (the lines OpenClaw appends when a run uses another model or thinking level)."""
    out: list[dict[str, Any]] = []
    parent, taken = state.last_id, set(state.ids)

    def new_id() -> str:
        entry_id = new_entry_id(taken)
        taken.add(entry_id)
        return entry_id

    if provider and model and (state.provider, state.model_id) != (provider, model):
        out.append(model_change_entry(provider, model, parent_id=parent, entry_id=new_id(), ts_ms=ts))
        parent = out[-1]["id"]
    if thinking_level and state.thinking_level != thinking_level:
        out.append(thinking_level_entry(thinking_level, parent_id=parent, entry_id=new_id(), ts_ms=ts))
        parent = out[-1]["id"]
    if provider and model and model_api and state.snapshot != (provider, model_api, model):
        out.append(model_snapshot_entry(
            provider, model_api, model, parent_id=parent, entry_id=new_id(), ts_ms=ts
        ))
    return out


def write_entries(writer: TranscriptWriter, state: TranscriptState,
                  entries: list[dict[str, Any]]) -> None:
    """Append `entries` and keep `state` in step with the file (also when an append fails)."""
    try:
        for entry in entries:
            writer.append(entry)
            state.apply(entry)
    finally:
        state.size = writer.size
        try:
            state.mtime_ns = writer.stat().st_mtime_ns
        except OSError:
            state.mtime_ns = -1  # forces a re-read next time


class TranscriptStateCache:
    """The append state of recently used transcripts, valid while a file's size and mtime are
    what they were when it was scanned (an edit from outside means a new scan)."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._states: OrderedDict[str, TranscriptState] = OrderedDict()

    def known(self, path: Path, st: os.stat_result | None = None) -> TranscriptState | None:
        """The cached state if the file is still exactly as it was; None otherwise."""
        if st is None:
            try:
                st = path.stat()
            except OSError:
                return None
        with self._lock:
            cached = self._states.get(str(path))
            if cached is not None and (cached.size, cached.mtime_ns) == (st.st_size, st.st_mtime_ns):
                self._states.move_to_end(str(path))
                return cached
        return None

    def get(self, path: Path, writer: TranscriptWriter) -> TranscriptState:
        """The state of the file `writer` has open (and repaired), scanning it when not cached."""
        st = writer.stat()
        cached = self.known(path, st)
        if cached is not None:
            return cached
        state = TranscriptState.scan(path, st)
        with self._lock:
            self._states[str(path)] = state
            while len(self._states) > self._limit:
                self._states.popitem(last=False)
        return state

    def forget(self, path: Path) -> None:
        with self._lock:
            self._states.pop(str(path), None)
