"""The other devices' sessions as a pull left them under `<state>/synced/`, and continuing one here.

Layout read (never written): `<state>/synced/<deviceName>-<deviceId8>/agents/<agentId>/sessions/`
with `sessions.json` and the transcripts, and the manifest the pull matched beside them
(`<folder>/manifest.json`, whose `device` names the device; without it the folder name does).
`list_synced` lists the sessions newest first, `synced_history` gives one session's messages as
chat.history shows them, `fork_synced` copies one into a new local session of this device's
default agent that records where it came from (`forkedFrom` in its entry; transcripts of this
era have no header field for a parent session).

Not here: pulling (engine.py), the Qt views (ui/session_synced.py).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.sessions import display
from molt_desktop.sessions import transcript as tx
from molt_desktop.sessions.store import DEFAULT_AGENT_ID, SessionStore

log = get_logger("sync")

SYNCED_DIR = "synced"
MANIFEST_NAME = "manifest.json"
SESSIONS_FILE = "sessions.json"
FORK_PREFIX = "desktop-"
TITLE_SCAN_BYTES = 64 * 1024  # the first user message is near the top; a title never reads a whole file
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FOLDER = re.compile(r"^(?P<name>.+)-(?P<id>[0-9A-Za-z]{1,8})$")


class SyncedSessionMissing(LookupError):
    """The synced session (or its transcript) is no longer in the synced folder."""


@dataclass
class SyncedSession:
    folder: str
    device_name: str
    device_id: str
    agent_id: str
    key: str
    session_id: str
    title: str
    updated_at: int  # ms
    message_count: int | None


def synced_root(state_dir: Path) -> Path:
    return Path(state_dir) / SYNCED_DIR


def device_of(folder: Path) -> tuple[str, str]:
    """(name, id) from the pulled manifest, else from the folder name `<name>-<id8>`."""
    try:
        raw = json.loads((folder / MANIFEST_NAME).read_text("utf-8"))
        device = raw.get("device") if isinstance(raw, dict) else None
        if isinstance(device, dict) and device.get("name"):
            return str(device["name"]), str(device.get("id") or "")
    except (OSError, ValueError):
        pass
    match = _FOLDER.match(folder.name)
    if match:
        return match.group("name"), match.group("id")
    return folder.name, ""


def _entries(sessions_file: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(sessions_file.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("cannot read the synced session list %s: %s", sessions_file, exc)
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, dict) and _SAFE_ID.match(str(v.get("sessionId", "")))}


def _transcript(sessions_dir: Path, entry: dict[str, Any]) -> Path:
    """As SessionStore.transcript_path: `sessionFile` counts by its name only, inside this folder."""
    session_id = str(entry["sessionId"])
    session_file = entry.get("sessionFile")
    if isinstance(session_file, str):
        name = re.split(r"[\\/]", session_file.strip())[-1]
        if (name.startswith(session_id) and name.endswith(".jsonl") and _SAFE_ID.match(name)
                and (sessions_dir / name).is_file()):
            return sessions_dir / name
    return sessions_dir / f"{session_id}.jsonl"


def _first_user_text(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(TITLE_SCAN_BYTES)
    except OSError:
        return ""
    for line in head.splitlines():
        if b'"message"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the cut last line of the scan
        message = entry.get("message") if isinstance(entry, dict) else None
        if isinstance(message, dict) and message.get("role") == "user":
            text = display.message_text(display.display_message(message))
            if text:
                return text.strip().splitlines()[0][:60]
    return ""


def _title(key: str, entry: dict[str, Any], transcript: Path) -> str:
    for name in ("label", "displayName"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return _first_user_text(transcript) or key.split(":", 2)[-1]


def list_synced(state_dir: Path) -> list[SyncedSession]:
    """Every synced session of every other device, newest first (blocking: call it in a thread)."""
    root = synced_root(state_dir)
    found: list[SyncedSession] = []
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return []
    for folder in folders:
        name, device_id = device_of(folder)
        agents = folder / "agents"
        try:
            agent_dirs = sorted(p for p in agents.iterdir() if p.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        for agent_dir in agent_dirs:
            sessions_dir = agent_dir / "sessions"
            for key, entry in _entries(sessions_dir / SESSIONS_FILE).items():
                updated = entry.get("updatedAt")
                found.append(SyncedSession(
                    folder=folder.name, device_name=name, device_id=device_id, agent_id=agent_dir.name, key=key,
                    session_id=str(entry["sessionId"]), title=_title(key, entry, _transcript(sessions_dir, entry)),
                    updated_at=updated if isinstance(updated, int) and not isinstance(updated, bool) else 0,
                    message_count=None,
                ))
    found.sort(key=lambda s: s.updated_at, reverse=True)
    return found


def _locate(state_dir: Path, s: SyncedSession) -> tuple[dict[str, Any], Path]:
    """The session's entry as the synced folder holds it now, and its transcript."""
    if not (_SAFE_ID.match(s.folder) and _SAFE_ID.match(s.agent_id)):
        raise SyncedSessionMissing(_("“{title}” is not a synced session.").format(title=s.title))
    sessions_dir = synced_root(state_dir) / s.folder / "agents" / s.agent_id / "sessions"
    entry = _entries(sessions_dir / SESSIONS_FILE).get(s.key)
    if entry is None or str(entry.get("sessionId")) != s.session_id:
        raise SyncedSessionMissing(
            _("“{title}” from {device} is no longer in the synced sessions (it was deleted or reset on that "
              "device). Sync again to see the current list.").format(title=s.title, device=s.device_name))
    path = _transcript(sessions_dir, entry)
    if not path.is_file():
        raise SyncedSessionMissing(
            _("The messages of “{title}” from {device} have not been synced yet. Sync again, then try once "
              "more.").format(title=s.title, device=s.device_name))
    return entry, path


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        return tx.read_transcript(path)
    except tx.TranscriptError as exc:
        raise SyncedSessionMissing(str(exc)) from exc


def synced_history(state_dir: Path, s: SyncedSession, limit: int = 200) -> list[dict[str, Any]]:
    """The last `limit` messages, as chat.history shows them; SyncedSessionMissing when gone."""
    _entry, path = _locate(state_dir, s)
    messages = display.history_messages(_read(path))
    return messages[-limit:] if limit > 0 else []


def fork_label(s: SyncedSession) -> str:
    return _("{title} (from {device})").format(title=s.title, device=s.device_name)


def fork_synced(store: SessionStore, state_dir: Path, s: SyncedSession) -> str:
    """Copy the synced session into a new local session; returns its key (blocking)."""
    entry, path = _locate(state_dir, s)
    messages = [e["message"] for e in _read(path) if e.get("type") == "message" and isinstance(e.get("message"), dict)]
    key = f"agent:{DEFAULT_AGENT_ID}:{FORK_PREFIX}{uuid.uuid4().hex[:8]}"
    fields: dict[str, Any] = {
        "label": fork_label(s), "chatType": "direct", "systemSent": False, "abortedLastRun": False,
        "inputTokens": 0, "outputTokens": 0, "totalTokens": 0,
        "forkedFrom": {"device": s.device_name, "deviceId": s.device_id, "sessionKey": s.key,
                       "sessionId": s.session_id},
    }
    for name in ("modelProvider", "model", "contextTokens", "thinkingLevel"):
        if name in entry:
            fields[name] = entry[name]
    store.update(key, fields)
    if messages:
        store.append_messages(key, messages)
    log.info("continued the session %s of %s here as %s (%d messages)", s.key, s.device_name, key, len(messages))
    return key


__all__ = ["SyncedSession", "SyncedSessionMissing", "fork_label", "fork_synced", "list_synced", "synced_history"]
