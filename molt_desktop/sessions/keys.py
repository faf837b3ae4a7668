"""Session keys: the names sessions.json files its entries under (`agent:<agentId>:<rest>`).

What lives here: parsing, canonicalising and classifying keys the way OpenClaw 2026.1.29 does
(`src/routing/session-key.ts`, `classifySessionKey` of the gateway). What does not: anything that
reads or writes files (store.py), or decides which key a channel message maps to (the gateway).

Bare keys: a client may send `main` or `desktop-probe` instead of `agent:main:desktop-probe`.
Like OpenClaw's `toAgentStoreSessionKey`, such keys belong to the default agent: `main` (or the
configured main key) becomes `agent:main:main`, anything else `agent:main:<key lowercased>`.
`global` and `unknown` are OpenClaw's two special keys and stay as they are.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from molt_desktop.paths import DEFAULT_AGENT_ID

DEFAULT_MAIN_KEY = "main"
SPECIAL_KEYS = frozenset({"global", "unknown"})
# Longer keys are not produced by any OpenClaw channel; refusing them keeps junk out of the store.
MAX_KEY_LENGTH = 512

SessionKind = Literal["direct", "group", "global", "unknown"]

_VALID_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)
_INVALID_ID_CHARS = re.compile(r"[^a-z0-9_-]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def normalize_agent_id(value: str | None) -> str:
    """An agent id safe to use as a directory name: `[a-z0-9][a-z0-9_-]{0,63}`, else `main`."""
    trimmed = (value or "").strip()
    if not trimmed:
        return DEFAULT_AGENT_ID
    if _VALID_ID.match(trimmed):
        return trimmed.lower()
    cleaned = _INVALID_ID_CHARS.sub("-", trimmed.lower()).strip("-")[:64]
    return cleaned or DEFAULT_AGENT_ID


def _normalize_main_key(main_key: str | None) -> str:
    trimmed = (main_key or "").strip().lower()
    return trimmed or DEFAULT_MAIN_KEY


def main_session_key(agent_id: str = DEFAULT_AGENT_ID, main_key: str = DEFAULT_MAIN_KEY) -> str:
    """`agent:main:main`: the session a client gets when it names no session."""
    return f"agent:{normalize_agent_id(agent_id)}:{_normalize_main_key(main_key)}"


def _check_raw(key: object) -> str:
    if not isinstance(key, str):
        raise ValueError(f"session key must be a string, got {type(key).__name__}")
    raw = key.strip()
    if not raw:
        raise ValueError("session key is empty")
    if len(raw) > MAX_KEY_LENGTH:
        raise ValueError(f"session key is longer than {MAX_KEY_LENGTH} characters")
    if _CONTROL_CHARS.search(raw):
        raise ValueError("session key contains control characters")
    return raw


def _split_agent_key(raw: str) -> tuple[str, str] | None:
    """OpenClaw's `parseAgentSessionKey`: None when `raw` is not an `agent:<id>:<rest>` key."""
    parts = [part for part in raw.split(":") if part]
    if len(parts) < 3 or parts[0].lower() != "agent":
        return None
    rest = ":".join(parts[2:]).strip()
    if not rest:
        return None
    return normalize_agent_id(parts[1]), rest


def canonical_session_key(
    key: str,
    agent_id: str = DEFAULT_AGENT_ID,
    main_key: str = DEFAULT_MAIN_KEY,
) -> str:
    """The key as sessions.json stores it (lowercase, agent-prefixed); ValueError when unusable."""
    raw = _check_raw(key)
    lowered = raw.lower()
    if lowered in SPECIAL_KEYS:
        return lowered
    if lowered == DEFAULT_MAIN_KEY or lowered == _normalize_main_key(main_key):
        return main_session_key(agent_id, main_key)
    if lowered.startswith("agent:"):
        parsed = _split_agent_key(lowered)
        if parsed is None:
            raise ValueError(f"malformed session key {raw!r}: expected agent:<agentId>:<name>")
        return f"agent:{parsed[0]}:{parsed[1]}"
    return f"agent:{normalize_agent_id(agent_id)}:{lowered}"


def parse_session_key(key: str) -> tuple[str, str]:
    """`(agent_id, rest)` of a key; bare keys belong to the default agent (see module docstring).

    `parse_session_key("agent:main:dm:alice") == ("main", "dm:alice")`,
    `parse_session_key("Desktop-Probe") == ("main", "desktop-probe")`,
    `parse_session_key("global") == ("main", "global")`. ValueError for empty, over-long or
    control-character keys and for `agent:` keys without an id and a name.
    """
    canonical = canonical_session_key(key)
    if canonical in SPECIAL_KEYS:
        return DEFAULT_AGENT_ID, canonical
    parsed = _split_agent_key(canonical)
    assert parsed is not None  # canonical_session_key only returns agent keys here
    return parsed


def session_kind(key: str, entry: dict[str, Any] | None = None) -> SessionKind:
    """The `kind` sessions.list reports: global, unknown, group (groups and channels) or direct."""
    if key == "global":
        return "global"
    if key == "unknown":
        return "unknown"
    chat_type = entry.get("chatType") if isinstance(entry, dict) else None
    if chat_type in ("group", "channel"):
        return "group"
    if ":group:" in key or ":channel:" in key:
        return "group"
    return "direct"


def is_main_session(key: str, main_key: str = DEFAULT_MAIN_KEY) -> bool:
    """True for `agent:<any agent>:main` (and bare `main`): the session that cannot be deleted."""
    try:
        agent_id, rest = parse_session_key(key)
    except ValueError:
        return False
    del agent_id
    return rest == _normalize_main_key(main_key)
