"""client/cli_chat.py on its own: session keys, what stdout and stderr say. The whole command
against real gateway processes is tests/e2e/test_cli_chat.py."""

from __future__ import annotations

import io
import json
from typing import Literal

import pytest

from molt_desktop.client.cli_chat import (
    ChatOutput,
    ChatUsageError,
    answered_by,
    session_key_for,
    unreachable_message,
)
from molt_desktop.client.connection import ClientOptions
from molt_desktop.client.failover import Endpoint, EndpointHealth


def test_default_session_is_the_main_one() -> None:
    assert session_key_for(None) == "agent:main:main"
    assert session_key_for(None, "home") == "agent:main:home"


@pytest.mark.parametrize(("given", "key"), [
    ("agent:main:notes", "agent:main:notes"),
    ("Agent:Main:Notes", "agent:main:notes"),
    ("  agent:work:dm:alice ", "agent:work:dm:alice"),
])
def test_full_keys_are_taken_as_gateways_store_them(given: str, key: str) -> None:
    assert session_key_for(given) == key


@pytest.mark.parametrize("given", ["notes", "main", "", "agent:", "agent::", "agent:main", "agent:main:\x01x",
                                   "agent:main:" + "x" * 600])
def test_other_keys_are_refused_with_an_example(given: str) -> None:
    with pytest.raises(ChatUsageError) as info:
        session_key_for(given)
    assert f"{given!r} is not a session key" in str(info.value)
    assert "agent:<agentId>:<name>" in str(info.value) and "agent:main:notes" in str(info.value)


def _endpoint(endpoint_id: str, kind: Literal["local", "remote"], url: str) -> Endpoint:
    return Endpoint(endpoint_id, kind, lambda: ClientOptions(url=url))


def test_who_answered() -> None:
    assert answered_by(_endpoint("local", "local", "ws://127.0.0.1:18789"), "ws://127.0.0.1:18789") == \
        "answered by the local gateway ws://127.0.0.1:18789"
    assert answered_by(_endpoint("server", "remote", "wss://gw.example.net"), "wss://gw.example.net") == \
        "answered by the remote gateway server (wss://gw.example.net)"


def test_unreachable_lists_every_gateway_tried() -> None:
    health = [
        EndpointHealth("local", "local", "ws://127.0.0.1:18789", state="down", last_error="connection refused"),
        EndpointHealth("server", "remote", "wss://gw.example.net", state="down",
                       last_error="PAIRING_REQUIRED: pairing required. Approve it with "
                                  "`molt-desktop devices approve r-1`"),
        EndpointHealth("backup", "remote", "ws://10.0.0.9:18789"),
    ]
    text = unreachable_message(health, "the gateway is not connected")
    lines = text.splitlines()
    assert lines[0] == "No gateway took the message. Gateways tried:"
    assert lines[1] == "  local  ws://127.0.0.1:18789: connection refused"
    assert lines[2].startswith("  server  wss://gw.example.net: PAIRING_REQUIRED")
    assert "molt-desktop devices approve r-1" in lines[2]
    assert lines[3] == "  backup  ws://10.0.0.9:18789: not connected"
    assert "molt-desktop gateway" in lines[4]
    assert unreachable_message([], "refused") == "No gateway took the message: refused"


def test_output_streams_text_or_prints_one_object() -> None:
    out, err = io.StringIO(), io.StringIO()
    plain = ChatOutput(out, err, as_json=False)
    for piece in ("Hel", "lo", " 你好"):
        plain.delta(piece)
    plain.end_reply()
    plain.note("answered by the local gateway ws://127.0.0.1:1")
    plain.result({"text": "ignored"})
    assert out.getvalue() == "Hello 你好\n"
    assert err.getvalue() == "answered by the local gateway ws://127.0.0.1:1\n"

    out, err = io.StringIO(), io.StringIO()
    as_json = ChatOutput(out, err, as_json=True)
    as_json.delta("Hello")
    as_json.end_reply()
    as_json.result({"text": "Hello 你好", "sessionKey": "agent:main:main"})
    assert json.loads(out.getvalue()) == {"text": "Hello 你好", "sessionKey": "agent:main:main"}
    assert out.getvalue().count("\n") == 1 and as_json.streamed == "Hello"
