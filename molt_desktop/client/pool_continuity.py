"""Keeping a conversation whole across gateways: seeding a remote, and bringing its turns home.

- Seeding: when a conversation moves to a remote gateway whose copy of the session lacks the
  recent local turns, the last `seedTurns` turns are given to it as one `chat.inject` note, so the
  model there keeps the context. Gateways that do not allow `chat.inject` for this client are
  left as they are (logged).
- The journal: every turn answered by a remote gateway is written to
  `<state>/failover/remote-turns.json` (user text, run id, the remote's final message), so it
  survives this process. When the local gateway is back, each turn is fetched from the remote's
  `chat.history` (or taken from the journal when the remote is gone) and appended to the local
  transcript with `molt.chat.append`, marked with where it came from. The local gateway skips
  what it already holds, so a retried reconciliation never doubles a message.

Not here: choosing endpoints and re-sending chats (failover.py), connections (connection.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop.fileio import atomic_write_json
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

JOURNAL_LIMIT = 500  # turns kept while the local gateway stays away; the oldest go first
CallFn = Callable[[str, dict[str, Any]], Awaitable[Any]]
LocalHistory = Callable[[str, int], list[dict[str, Any]]]


def message_text(message: dict[str, Any] | None) -> str:
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


@dataclass
class RemoteTurn:
    endpoint_id: str
    kind: str
    url: str
    session_key: str
    run_id: str
    user_text: str
    sent_at: int  # ms
    reply: dict[str, Any] | None = None  # the final assistant message as the remote sent it

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteTurn | None:
        try:
            return cls(**{k: data[k] for k in ("endpoint_id", "kind", "url", "session_key", "run_id",
                                               "user_text", "sent_at")}, reply=data.get("reply"))
        except (KeyError, TypeError):
            return None


@dataclass
class RemoteTurnJournal:
    """Turns answered by remote gateways and not yet in the local transcript."""

    path: Path | None = None
    turns: list[RemoteTurn] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> RemoteTurnJournal:
        journal = cls(path)
        if path is None or not path.exists():
            return journal
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            journal.turns = [t for t in (RemoteTurn.from_json(d) for d in data.get("turns", [])) if t]
        except (OSError, ValueError, AttributeError) as exc:
            # A torn file is not worth losing the app over; keep it aside for a person to read.
            log.warning("cannot read %s (%s); starting an empty journal", path, exc)
            try:
                path.rename(path.with_name(f"{path.name}.broken.{int(time.time())}"))
            except OSError:
                pass
        return journal

    def add(self, turn: RemoteTurn) -> None:
        self.turns = [t for t in self.turns if t.run_id != turn.run_id] + [turn]
        del self.turns[:-JOURNAL_LIMIT]
        self._save()

    def remove(self, run_ids: set[str]) -> None:
        if run_ids:
            self.turns = [t for t in self.turns if t.run_id not in run_ids]
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            atomic_write_json(self.path, {"version": 1, "turns": [asdict(t) for t in self.turns]})
        except OSError as exc:
            log.warning("cannot write %s: %s", self.path, exc)


# --- seeding a remote ---------------------------------------------------------------------


def recent_turns(messages: list[dict[str, Any]], turns: int, skip_user_text: str | None) -> list[dict[str, Any]]:
    """The last `turns` user/assistant exchanges, without a trailing user message `skip_user_text`."""
    usable = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")
              and message_text(m).strip()]
    if usable and skip_user_text is not None and usable[-1].get("role") == "user" \
            and message_text(usable[-1]).strip() == skip_user_text.strip():
        usable.pop()
    count, start = 0, len(usable)
    while start > 0 and count < turns:
        start -= 1
        if usable[start].get("role") == "user":
            count += 1
    return usable[start:]


def context_note(turns: list[dict[str, Any]], limit_chars: int = 12000) -> str:
    lines = []
    for message in turns:
        who = "User" if message.get("role") == "user" else "Assistant"
        lines.append(f"{who}: {message_text(message).strip()}")
    text = "\n\n".join(lines)
    if len(text) > limit_chars:
        text = "…" + text[-limit_chars:]
    return ("Earlier in this conversation (on the user's own computer, before it moved to this gateway):\n\n"
            + text)


def remote_has(remote_messages: list[dict[str, Any]], turns: list[dict[str, Any]]) -> bool:
    """Whether the remote's history already ends with what the local history ends with."""
    last = next((message_text(m).strip() for m in reversed(turns) if m.get("role") == "assistant"), None)
    if last is None:
        return True
    return any(last == message_text(m).strip() or last in message_text(m) for m in remote_messages[-40:])


async def seed_remote(call: CallFn, session_key: str, local: list[dict[str, Any]], turns: int,
                      skip_user_text: str | None, *, inject: bool = True) -> str | None:
    """Give a remote session the recent local turns it lacks, as one `chat.inject` note.

    A session the remote does not have yet is created first (`sessions.patch`). Returns the note
    when it must travel with the message instead: `inject=False` (gateways that keep injected
    notes out of the model's context, as OpenClaw 2026.9 does), a gateway that injects only into
    existing transcripts (2026.1), or no admin scope there. None when nothing is needed or injected.
    """
    context = recent_turns(local, turns, skip_user_text)
    if not context:
        return None
    try:
        history = await call("chat.history", {"sessionKey": session_key, "limit": 100})
        remote_messages = history.get("messages", []) if isinstance(history, dict) else []
    except Exception as exc:  # an unreadable history is treated as empty
        log.info("chat.history on the remote failed (%s); seeding anyway", exc)
        remote_messages = []
    if remote_has(remote_messages, context):
        return None
    note = context_note(context)
    if not inject:
        return note
    params = {"sessionKey": session_key, "message": note, "label": "molt-desktop"}
    for attempt in range(2):
        try:
            await call("chat.inject", params)
        except Exception as exc:
            if attempt == 0 and not remote_messages and "not found" in str(exc):
                try:  # a new session on the remote: make it, then inject
                    await call("sessions.patch", {"key": session_key})
                    continue
                except Exception as patch_exc:
                    exc = patch_exc
            log.warning("the remote gateway did not take the earlier turns of %s (%s); they go with the message",
                        session_key, exc)
            return note
        log.info("gave the remote gateway %d earlier messages of %s", len(context), session_key)
        return None
    return note


# --- bringing remote turns home -----------------------------------------------------------


def turn_messages(turn: RemoteTurn, remote_messages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The turn's user message and replies: from the remote's history when found there, else the journal's."""
    if remote_messages:
        for index in range(len(remote_messages) - 1, -1, -1):
            message = remote_messages[index]
            # Whitespace as words: some gateways fold every run of it into one space.
            text, wanted = " ".join(message_text(message).split()), " ".join(turn.user_text.split())
            if message.get("role") == "user" and (text == wanted or text.endswith(" " + wanted)):
                if text != wanted:  # sent with the earlier turns before it: keep the user's own words
                    message = {**message, "content": [{"type": "text", "text": turn.user_text}]}
                replies = []
                for following in remote_messages[index + 1:]:
                    if following.get("role") == "user":
                        break
                    if following.get("role") == "assistant":
                        replies.append(following)
                if replies:
                    return [message, *replies]
                break
    user = {"role": "user", "content": [{"type": "text", "text": turn.user_text}], "timestamp": turn.sent_at}
    return [user, turn.reply] if isinstance(turn.reply, dict) else [user]


async def reconcile(journal: RemoteTurnJournal, local_call: CallFn,
                    remote_call: Callable[[str], CallFn | None]) -> int:
    """Append the journal's turns to the local transcripts; returns how many turns were brought home."""
    done: set[str] = set()
    histories: dict[tuple[str, str], list[dict[str, Any]] | None] = {}
    for turn in list(journal.turns):
        source = (turn.endpoint_id, turn.session_key)
        if source not in histories:
            histories[source] = None
            call = remote_call(turn.endpoint_id)
            if call is not None:
                try:
                    history = await call("chat.history", {"sessionKey": turn.session_key, "limit": 200})
                    histories[source] = history.get("messages", []) if isinstance(history, dict) else None
                except Exception as exc:
                    log.info("chat.history of %s on %s failed (%s); using the journal", turn.session_key,
                             turn.endpoint_id, exc)
        messages = [_clean(m) for m in turn_messages(turn, histories[source])]
        try:
            await local_call("molt.chat.append", {
                "sessionKey": turn.session_key, "runId": turn.run_id, "messages": messages,
                "origin": {"endpointId": turn.endpoint_id, "kind": turn.kind, "url": turn.url}})
        except Exception as exc:
            log.warning("could not add the turn %s from %s to the local history: %s", turn.run_id,
                        turn.endpoint_id, exc)
            if getattr(exc, "code", None) == "INVALID_REQUEST" and "unknown method" in str(exc):
                done.add(turn.run_id)  # a local gateway that cannot take turns never will
            continue
        done.add(turn.run_id)
    journal.remove(done)
    if done:
        log.info("added %d turn(s) made on remote gateways to the local history", len(done))
    return len(done)


def _clean(message: dict[str, Any]) -> dict[str, Any]:
    """A transcript message object as the local gateway takes it (no remote-only extras)."""
    keep = ("role", "content", "timestamp", "provider", "model", "usage", "stopReason", "api")
    cleaned = {k: message[k] for k in keep if k in message}
    if isinstance(cleaned.get("content"), str):
        cleaned["content"] = [{"type": "text", "text": cleaned["content"]}]
    return cleaned
