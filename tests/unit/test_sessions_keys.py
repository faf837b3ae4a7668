"""Session keys as OpenClaw 2026.1.29 forms and classifies them."""

from __future__ import annotations

import pytest

from molt_desktop.sessions.keys import (
    canonical_session_key,
    is_main_session,
    main_session_key,
    normalize_agent_id,
    parse_session_key,
    session_kind,
)


def test_main_session_key() -> None:
    assert main_session_key() == "agent:main:main"
    assert main_session_key("Work", "Home") == "agent:work:home"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("agent:main:main", ("main", "main")),
        ("agent:main:dm:alice", ("main", "dm:alice")),
        ("agent:main:telegram:dm:42", ("main", "telegram:dm:42")),
        ("agent:main:openai:0b6c6a0e-8f0e-4b8e-9a55-0cb1b0f0d1e2",
         ("main", "openai:0b6c6a0e-8f0e-4b8e-9a55-0cb1b0f0d1e2")),
        ("agent:Work:Desktop-Probe", ("work", "desktop-probe")),
        ("main", ("main", "main")),
        ("Desktop-Probe", ("main", "desktop-probe")),
        ("  agent:main:x  ", ("main", "x")),
        ("global", ("main", "global")),
    ],
)
def test_parse_session_key(key: str, expected: tuple[str, str]) -> None:
    assert parse_session_key(key) == expected


@pytest.mark.parametrize(
    "key", ["", "   ", "agent:main", "agent::x", "agent:main:", "a\nb", "x" * 600, None, 5]
)
def test_parse_session_key_rejects_bad_keys(key: object) -> None:
    with pytest.raises(ValueError):
        parse_session_key(key)  # type: ignore[arg-type]


def test_canonical_session_key() -> None:
    assert canonical_session_key("main") == "agent:main:main"
    assert canonical_session_key("MAIN") == "agent:main:main"
    assert canonical_session_key("probe", agent_id="ops") == "agent:ops:probe"
    assert canonical_session_key("Agent:Main:Probe") == "agent:main:probe"
    assert canonical_session_key("unknown") == "unknown"


def test_normalize_agent_id() -> None:
    assert normalize_agent_id(None) == "main"
    assert normalize_agent_id("Ops_1") == "ops_1"
    assert normalize_agent_id("../../etc") == "etc"
    assert normalize_agent_id("a b/c") == "a-b-c"
    assert normalize_agent_id("///") == "main"


def test_session_kind() -> None:
    assert session_kind("global") == "global"
    assert session_kind("unknown") == "unknown"
    assert session_kind("agent:main:main") == "direct"
    assert session_kind("agent:main:desktop-probe") == "direct"
    assert session_kind("agent:main:telegram:group:-100") == "group"
    assert session_kind("agent:main:discord:channel:1") == "group"
    assert session_kind("agent:main:x", {"chatType": "group"}) == "group"


def test_is_main_session() -> None:
    assert is_main_session("agent:main:main")
    assert is_main_session("agent:ops:main")
    assert is_main_session("main")
    assert is_main_session("agent:main:home", main_key="home")
    assert not is_main_session("agent:main:desktop-probe")
    assert not is_main_session("")
