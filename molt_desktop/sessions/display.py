"""What clients are shown of a transcript: chat.history messages and sessions.preview items.

What lives here: OpenClaw 2026.1.29's display rules (gateway `chat-sanitize.ts`,
`session-utils.fs.ts`): user text loses the inbound channel envelope and the
`[message_id: ...]` hint line the runtime adds for the model, compaction entries become a
"Compaction" divider, previews are `{role, text}` with tool calls and media summarised. Nothing
here reads or writes files (transcript.py, store.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from molt_desktop.clock import now_ms

# OpenClaw's shared/chat-envelope.ts: inbound channel envelopes and message-id hint lines are
# added for the model and taken out again before a user message is shown.
_ENVELOPE_PREFIX = re.compile(r"^\[([^\]]+)\]\s*")
_ENVELOPE_CHANNELS = (
    "WebChat", "WhatsApp", "Telegram", "Signal", "Slack", "Discord", "Google Chat", "iMessage",
    "Teams", "Matrix", "Zalo", "Zalo Personal", "BlueBubbles",
)
_ENVELOPE_DATES = (
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z\b"),
    re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b"),
)
_MESSAGE_ID_LINE = re.compile(r"^\s*\[message_id:\s*[^\]]+\]\s*$", re.IGNORECASE)
_LINE_SPLIT = re.compile(r"\r?\n")


def strip_envelope(text: str) -> str:
    match = _ENVELOPE_PREFIX.match(text)
    if not match:
        return text
    header = match.group(1)
    if any(p.search(header) for p in _ENVELOPE_DATES) or any(
        header.startswith(label + " ") for label in _ENVELOPE_CHANNELS
    ):
        return text[match.end():]
    return text


def strip_message_id_hints(text: str) -> str:
    """`"hi\\n[message_id: abc]"` -> `"hi"`: drops lines that are only a message-id hint."""
    if "[message_id:" not in text:
        return text
    lines = _LINE_SPLIT.split(text)
    kept = [line for line in lines if not _MESSAGE_ID_LINE.match(line)]
    return text if len(kept) == len(lines) else "\n".join(kept)


def _clean_text(text: str) -> str:
    return strip_message_id_hints(strip_envelope(text))


def display_message(message: dict[str, Any]) -> dict[str, Any]:
    """A transcript message as chat.history shows it (user text without envelope / message id);
    the input is never modified, unchanged messages are returned as they are."""
    role = message.get("role")
    if not isinstance(role, str) or role.lower() != "user":
        return message
    content = message.get("content")
    if isinstance(content, str):
        cleaned = _clean_text(content)
        return message if cleaned == content else {**message, "content": cleaned}
    if isinstance(content, list):
        changed = False
        parts: list[Any] = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(
                part.get("text"), str
            ):
                cleaned = _clean_text(part["text"])
                if cleaned != part["text"]:
                    changed = True
                    part = {**part, "text": cleaned}
            parts.append(part)
        return {**message, "content": parts} if changed else message
    text = message.get("text")
    if isinstance(text, str):
        cleaned = _clean_text(text)
        return message if cleaned == text else {**message, "text": cleaned}
    return message


def _compaction_marker(entry: dict[str, Any]) -> dict[str, Any]:
    """OpenClaw shows a compaction entry as a synthetic system message (a divider in the UI)."""
    try:
        ts = int(datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp() * 1000)
    except (KeyError, AttributeError, TypeError, ValueError):
        ts = now_ms()
    marker: dict[str, Any] = {"kind": "compaction"}
    if isinstance(entry.get("id"), str):
        marker["id"] = entry["id"]
    return {"role": "system", "content": [{"type": "text", "text": "Compaction"}], "timestamp": ts,
            "__openclaw": marker}


def history_messages(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What OpenClaw's chat.history returns for a transcript: the `message` object of every entry
    that has one (user text cleaned for display), and a marker for each compaction."""
    out: list[dict[str, Any]] = []
    for entry in entries:
        message = entry.get("message")
        if isinstance(message, dict) and message:
            out.append(display_message(message))
        elif entry.get("type") == "compaction":
            out.append(_compaction_marker(entry))
    return out


def message_text(message: dict[str, Any]) -> str:
    """The visible text of a message: string content, or its text parts joined by newlines."""
    content = message.get("content")
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        texts = [
            part["text"] for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"].strip()
        ]
        return "\n".join(texts).strip()
    text = message.get("text")
    return text.strip() if isinstance(text, str) else ""


_TOOL_CALL_TYPES = frozenset({"toolcall", "tool_call", "tooluse", "tool_use"})


def preview_item(message: dict[str, Any], max_chars: int) -> dict[str, str] | None:
    """OpenClaw's buildPreviewItems for one message."""
    content = message.get("content")
    parts = [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []
    tool_names = [
        str(p.get("name") or "tool") for p in parts
        if str(p.get("type", "")).lower() in _TOOL_CALL_TYPES
    ]
    raw_role = message.get("role")
    role = raw_role.lower() if isinstance(raw_role, str) else ""
    if tool_names:
        role = "tool"
    elif role not in ("user", "assistant", "system", "tool"):
        role = "other"
    text = message_text(message)
    if not text and tool_names:
        text = "call " + ", ".join(tool_names[:2])
        if len(tool_names) > 2:
            text += f" +{len(tool_names) - 2}"
    if not text:
        media = [str(p.get("type")) for p in parts if p.get("type") not in (None, "text")]
        text = f"[{media[0].lower()}]" if media else ""
    if not text:
        return None
    if max_chars > 0 and len(text) > max_chars:
        text = text[:max_chars] if max_chars <= 3 else text[: max_chars - 3] + "..."
    return {"role": role, "text": text}
