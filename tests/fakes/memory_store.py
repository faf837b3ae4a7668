"""An in-memory stand-in for sessions.store.SessionStore, for agent runtime unit tests.

It implements the part of the store contract the runtime uses (get, ensure, append_message,
history, update) with the same semantics: entries keyed by session key, transcript lines as
entry dicts, `history()` strips the `\\n[message_id: ...]` suffix of user text. `fail_appends`
makes writes raise OSError, as a full disk would.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

_MESSAGE_ID = re.compile(r"\n\[message_id: [^\]]+\]$")


@dataclass
class History:
    session_id: str | None
    messages: list[dict[str, Any]]
    thinking_level: str = "off"


class MemoryStore:
    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.transcripts: dict[str, list[dict[str, Any]]] = {}  # sessionId -> entries
        self.fail_appends = False
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self.sessions.get(key)
            return dict(entry) if entry is not None else None

    def ensure(self, key: str, *, provider: str, model: str, model_api: str, context_tokens: int,
               thinking_level: str = "off") -> dict[str, Any]:
        with self._lock:
            entry = self.sessions.get(key)
            if entry is None:
                entry = {"sessionId": str(uuid.uuid4()), "updatedAt": int(time.time() * 1000)}
                self.sessions[key] = entry
                self.transcripts[entry["sessionId"]] = [
                    {"type": "session", "version": 3, "id": entry["sessionId"]},
                    {"type": "model_change", "provider": provider, "modelId": model},
                    {"type": "thinking_level_change", "thinkingLevel": thinking_level},
                    {"type": "custom", "customType": "model-snapshot",
                     "data": {"provider": provider, "modelApi": model_api, "modelId": model}},
                ]
            return dict(entry)

    def append_message(self, key: str, message: dict[str, Any]) -> str:
        if self.fail_appends:
            raise OSError(28, "No space left on device")
        with self._lock:
            entry = self.sessions[key]
            entry_id = uuid.uuid4().hex[:8]
            self.transcripts[entry["sessionId"]].append({"type": "message", "id": entry_id, "message": message})
            return entry_id

    def history(self, key: str, limit: int = 200) -> History:
        with self._lock:
            entry = self.sessions.get(key)
            if entry is None:
                return History(None, [])
            messages = []
            for line in self.transcripts.get(entry["sessionId"], []):
                if line.get("type") != "message":
                    continue
                message = dict(line["message"])
                if message.get("role") == "user" and isinstance(message.get("content"), list):
                    message["content"] = [
                        {**b, "text": _MESSAGE_ID.sub("", b["text"])} if b.get("type") == "text" else b
                        for b in message["content"]
                    ]
                messages.append(message)
            return History(entry["sessionId"], messages[-limit:])

    def update(self, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry = self.sessions[key]
            for name, value in fields.items():
                if value is None:
                    entry.pop(name, None)
                else:
                    entry[name] = value
            entry["updatedAt"] = int(time.time() * 1000)
            return dict(entry)

    def messages(self, key: str) -> list[dict[str, Any]]:
        """The raw transcript messages of a session (suffixes kept), for assertions."""
        entry = self.sessions[key]
        return [line["message"] for line in self.transcripts[entry["sessionId"]] if line.get("type") == "message"]
