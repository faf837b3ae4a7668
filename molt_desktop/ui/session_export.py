"""Session titles and exports for the session list: Markdown, JSON and the JSONL transcript.

What lives here: `row_title()` (what the list shows for a sessions.list row), `TitleCache`
(first-message titles kept per session so they are asked for once), the three file
formats built from `chat.history` payloads, file names, and `export_sessions()` which fetches the
histories over the bridge and writes one file per session with `fileio.atomic_write`.
What does not: the widget, its dialogs and menus (session_list.py).

The JSONL export rebuilds an OpenClaw v3 transcript (PROTOCOL.md section 6) from the history with
the line builders of sessions/transcript.py (formats only, no store access), so it imports back
with `importer.import_transcript` and opens in OpenClaw itself.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from molt_desktop.clock import now_ms
from molt_desktop.fileio import atomic_write
from molt_desktop.sessions import transcript as tx
from molt_desktop.ui.bridge import describe_error
from molt_desktop.ui.i18n import tr

FORMATS = ("markdown", "json", "jsonl")
EXTENSIONS = {"markdown": "md", "json": "json", "jsonl": "jsonl"}
# chat.history answers at most this many messages (the protocol's bound on `limit`).
HISTORY_LIMIT = 1000
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def row_title(row: dict[str, Any]) -> str:
    """label, else displayName, else the first user message (derivedTitle), else the key's name."""
    for name in ("label", "displayName", "derivedTitle"):
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    key = str(row.get("key") or "")
    rest = key.split(":", 2)[-1] if key.count(":") >= 2 else key
    if rest == "main":
        return tr("Main session")
    return rest or tr("Untitled session")


class TitleCache:
    """Derived titles (first user messages) by (key, sessionId): a title found once is kept, so
    later list answers without `includeDerivedTitles` still show it; `wanted()` says which rows
    are worth asking the gateway about (never the same unchanged row twice)."""

    def __init__(self) -> None:
        self._titles: dict[tuple[str, str], str] = {}
        self._asked: set[tuple[str, str, Any]] = set()

    def remember(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if isinstance(row, dict) and row.get("derivedTitle"):
                self._titles[(str(row.get("key")), str(row.get("sessionId")))] = str(row["derivedTitle"])

    def asked(self, rows: list[dict[str, Any]]) -> None:
        self._asked.update((str(r.get("key")), str(r.get("sessionId")), r.get("updatedAt")) for r in rows)

    def wanted(self, row: dict[str, Any]) -> bool:
        if row.get("label") or row.get("displayName") or row.get("derivedTitle"):
            return False
        if (str(row.get("key")), str(row.get("sessionId"))) in self._titles:
            return False
        return (str(row.get("key")), str(row.get("sessionId")), row.get("updatedAt")) not in self._asked

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        title = self._titles.get((str(row.get("key")), str(row.get("sessionId"))))
        return {**row, "derivedTitle": title} if title and not row.get("derivedTitle") else row


def file_name(row: dict[str, Any], fmt: str) -> str:
    """A file name for one session's export: its title, made safe for every file system, plus
    the end of its key so two sessions with the same title do not collide."""
    title = _UNSAFE_NAME.sub(" ", row_title(row)).strip(" .")[:60].strip() or "session"
    tail = re.sub(r"[^A-Za-z0-9]+", "", str(row.get("key") or ""))[-8:]
    return f"{title} - {tail}.{EXTENSIONS[fmt]}" if tail else f"{title}.{EXTENSIONS[fmt]}"


def _role_name(role: str) -> str:
    return {"user": tr("You"), "assistant": tr("Assistant"), "system": tr("System"),
            "toolResult": tr("Tool result")}.get(role, role or tr("Message"))


def _local_time(ms: Any) -> str:
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def message_markdown(message: dict[str, Any]) -> str:
    """The readable body of one message: its text, with placeholders for images and tool calls."""
    content = message.get("content")
    if isinstance(content, str):
        return content.strip()
    parts: list[str] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            parts.append(part["text"].strip())
        elif kind == "image":
            parts.append(tr("[image]"))
        elif kind in ("toolCall", "tool_use", "toolUse"):
            parts.append(tr("[tool call: {name}]").format(name=part.get("name") or "?"))
    return "\n\n".join(p for p in parts if p)


def render_markdown(row: dict[str, Any], history: dict[str, Any]) -> str:
    lines = [f"# {row_title(row)}", "",
             tr("Session: {key}").format(key=f"`{row.get('key') or history.get('sessionKey')}`") + "  ",
             tr("Exported: {time}").format(time=_local_time(now_ms())), ""]
    for message in history.get("messages") or []:
        if not isinstance(message, dict) or "__openclaw" in message:
            continue  # compaction markers are not part of the conversation
        when = _local_time(message.get("timestamp"))
        role = _role_name(str(message.get("role") or ""))
        lines += [f"## {role} · {when}" if when else f"## {role}", "", message_markdown(message), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_json(history: dict[str, Any]) -> str:
    return json.dumps(history, ensure_ascii=False, indent=2) + "\n"


def render_jsonl(history: dict[str, Any]) -> bytes:
    """An OpenClaw v3 transcript: a session header, a model_change when the model changes, then
    one `message` entry per message chained by parentId."""
    messages = [m for m in history.get("messages") or [] if isinstance(m, dict) and "__openclaw" not in m]
    first_ts = next((m["timestamp"] for m in messages if isinstance(m.get("timestamp"), int)), now_ms())
    session_id = str(history.get("sessionId") or "exported")
    lines = [tx.session_header(session_id, "", first_ts)]
    taken: set[str] = set()
    parent: str | None = None
    model: tuple[str, str] | None = None
    # The model line goes before the first message, as OpenClaw writes it, then wherever it changes.
    first_model = next((m for m in messages if isinstance(m.get("provider"), str)
                        and isinstance(m.get("model"), str)), None)
    for message in messages:
        ts = message["timestamp"] if isinstance(message.get("timestamp"), int) else first_ts
        source = first_model if model is None and first_model is not None else message
        provider, model_id = source.get("provider"), source.get("model")
        if isinstance(provider, str) and isinstance(model_id, str) and (provider, model_id) != model:
            model = (provider, model_id)
            entry = tx.model_change_entry(provider, model_id, parent_id=parent,
                                          entry_id=tx.new_entry_id(taken), ts_ms=ts)
            taken.add(entry["id"])
            parent = entry["id"]
            lines.append(entry)
        entry = tx.message_entry(message, parent_id=parent, entry_id=tx.new_entry_id(taken), ts_ms=ts)
        taken.add(entry["id"])
        parent = entry["id"]
        lines.append(entry)
    return b"".join(tx.encode_line(line) for line in lines)


def render(fmt: str, row: dict[str, Any], history: dict[str, Any]) -> bytes:
    if fmt == "markdown":
        return render_markdown(row, history).encode("utf-8")
    if fmt == "json":
        return render_json(history).encode("utf-8")
    if fmt == "jsonl":
        return render_jsonl(history)
    raise ValueError(f"unknown export format {fmt!r}")


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (title, readable reason)
    truncated: list[str] = field(default_factory=list)  # titles cut at HISTORY_LIMIT messages


def _free_path(path: Path) -> Path:
    """`path`, or `name (2).ext` etc. when it exists: an export never replaces an earlier file."""
    if not path.exists():
        return path
    for number in range(2, 1000):
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)


async def export_sessions(bridge: Any, rows: list[dict[str, Any]], fmt: str, *,
                          folder: Path | None = None, file: Path | None = None) -> ExportResult:
    """Write each session of `rows` in `fmt`: to `file` (one session) or into `folder` (one file
    each, never overwriting). A failure of one session is recorded and the others go on."""
    result = ExportResult()
    for row in rows:
        title = row_title(row)
        try:
            history = await bridge.call("chat.history", {"sessionKey": row["key"], "limit": HISTORY_LIMIT})
        except Exception as exc:
            result.failed.append((title, describe_error(exc).message))
            continue
        if len(history.get("messages") or []) >= HISTORY_LIMIT:
            result.truncated.append(title)
        data = render(fmt, row, history)
        target = file if file is not None and len(rows) == 1 else None
        try:
            if target is None:
                target = _free_path((folder or Path.cwd()) / file_name(row, fmt))
            await asyncio.to_thread(atomic_write, target, data)
        except OSError as exc:
            reason = str(exc.strerror or exc)
            result.failed.append((title, f"{reason} ({exc.filename})" if exc.filename else reason))
            continue
        result.written.append(target)
    return result
