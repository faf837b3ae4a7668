"""`molt-desktop chat "TEXT"` as a real process against real `molt-desktop gateway` processes.

The desktop's state dir (`home`) names its own gateway (gateway.port) and, where a test needs
one, a second gateway process with its own state dir as the remote (`remotes`). Only the model
is fake. Covered: the reply streamed to stdout and who answered on stderr, `--json`, `--session`,
the remote taking over when the local gateway is down, a remote that waits for this device to be
paired (from a non-loopback address), and the failures: no gateway, a failing model, bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    TOKEN,
    CliResult,
    GatewayProcess,
    Processes,
    assert_no_secret,
    free_port,
    run_cli,
    write_config,
)
from tests.e2e.interop.helpers import non_loopback_address
from tests.fakes.common import DEFAULT_TEXT

REMOTE_TOKEN = "e2e-remote-token-abcdef0123456789-abcdef0123456789"
REMOTE_TEXT = "The server gateway answers this one."

pytestmark = pytest.mark.slow


def chat(home: Path, *args: str, timeout: float = 90.0) -> CliResult:
    return run_cli(home, "chat", *args, timeout=timeout)


def history(home: Path, key: str, *url: str) -> list[tuple[str, str]]:
    """chat.history of the gateway of `home` (`url`: `--url`, `--token` of one not on gateway.port)."""
    result = run_cli(home, "call", "chat.history", "--params", json.dumps({"sessionKey": key}), "--json", *url)
    assert result.code == 0, result.output
    out = []
    for message in result.json()["messages"]:
        content = message["content"]
        text = content if isinstance(content, str) else "".join(
            part.get("text", "") for part in content if part.get("type") == "text")
        out.append((message["role"], text))
    return out


def remote_gateway(procs: Processes, tmp_path: Path, *args: str, text: str = REMOTE_TEXT,
                   bind: str | None = None) -> tuple[GatewayProcess, Path]:
    """A second `molt-desktop gateway` with its own state dir and model: the user's server."""
    server_home = tmp_path / "server-home"
    fake = procs.fake(text=text)
    gateway: dict[str, Any] = {"bind": bind} if bind else {}
    write_config(server_home, {"srv": fake.base_url}, token=REMOTE_TOKEN, **gateway)
    return procs.gateway(server_home, *args), server_home


def with_remote(home: Path, local_port: int, remote_url: str, fakes: dict[str, str] | None = None) -> None:
    write_config(home, fakes, port=local_port,
                 extra={"remotes": [{"id": "server", "url": remote_url, "token": REMOTE_TOKEN}]})


def test_chat_through_the_local_gateway(procs: Processes, home: Path) -> None:
    fake = procs.fake()
    port = free_port()
    write_config(home, {"fake": fake.base_url}, port=port)
    gw = procs.gateway(home, port=None)
    assert gw.port == port

    plain = chat(home, "Say hello")
    assert plain.code == 0, plain.output
    assert plain.stdout == DEFAULT_TEXT + "\n"
    assert f"answered by the local gateway ws://127.0.0.1:{port}" in plain.stderr

    as_json = chat(home, "Say hello again", "--session", "agent:main:Notes", "--json")
    assert as_json.code == 0, as_json.output
    result = as_json.json()
    assert set(result) == {"text", "sessionKey", "runId", "endpoint"}
    assert result["text"] == DEFAULT_TEXT and result["sessionKey"] == "agent:main:notes"
    assert result["endpoint"] == {"id": "local", "url": f"ws://127.0.0.1:{port}", "kind": "local"}
    assert result["runId"]

    assert history(home, "agent:main:main") == [("user", "Say hello"), ("assistant", DEFAULT_TEXT)]
    assert history(home, "agent:main:notes") == [("user", "Say hello again"), ("assistant", DEFAULT_TEXT)]
    assert_no_secret([TOKEN, "fake-api-key-e2e"], home, plain.output, as_json.output)


def test_the_remote_answers_when_the_local_gateway_is_down(procs: Processes, home: Path, tmp_path: Path) -> None:
    remote, server_home = remote_gateway(procs, tmp_path)
    local_port = free_port()  # nothing listens there: the local gateway is not running
    with_remote(home, local_port, remote.url)

    result = chat(home, "Who answers?", "--json")
    assert result.code == 0, result.output
    reply = result.json()
    assert reply["text"] == REMOTE_TEXT
    assert reply["endpoint"] == {"id": "server", "url": remote.url, "kind": "remote"}
    assert f"answered by the remote gateway server ({remote.url})" in result.stderr
    assert history(server_home, "agent:main:main", "--url", remote.url) == [
        ("user", "Who answers?"), ("assistant", REMOTE_TEXT)]

    streamed = chat(home, "Once more", "--session", "agent:main:notes")
    assert streamed.code == 0, streamed.output
    assert streamed.stdout == REMOTE_TEXT + "\n"
    assert_no_secret([REMOTE_TOKEN, TOKEN], home, result.output, streamed.output)


def test_no_gateway_answers(procs: Processes, home: Path) -> None:
    local_port, remote_port = free_port(), free_port()
    with_remote(home, local_port, f"ws://127.0.0.1:{remote_port}")

    result = chat(home, "Anyone there?")
    assert result.code == 1, result.output
    assert result.stdout == ""
    assert "No gateway took the message" in result.stderr
    assert f"local  ws://127.0.0.1:{local_port}" in result.stderr
    assert f"server  ws://127.0.0.1:{remote_port}" in result.stderr

    as_json = chat(home, "Anyone there?", "--json")
    assert as_json.code == 1, as_json.output
    failed = as_json.json()
    assert failed["endpoint"] is None and failed["text"] == "" and failed["sessionKey"] == "agent:main:main"
    assert "No gateway took the message" in failed["error"]


def test_a_failing_model_is_reported(procs: Processes, home: Path) -> None:
    fake = procs.fake()
    port = free_port()
    write_config(home, {"fake": fake.base_url}, port=port)
    procs.gateway(home, port=None)
    fake.control(fail=400, times=-1, failMessage="this request is not allowed")

    result = chat(home, "Say hello")
    assert result.code == 1, result.output
    assert "No reply:" in result.stderr and "this request is not allowed" in result.stderr
    assert f"answered by the local gateway ws://127.0.0.1:{port}" in result.stderr
    as_json = chat(home, "Say hello", "--json")
    assert as_json.code == 1
    failed = as_json.json()
    assert failed["endpoint"]["kind"] == "local" and "this request is not allowed" in failed["error"]


@pytest.mark.parametrize("args", [
    ["hi", "--session", "notes"],
    ["hi", "--session", "agent::"],
    ["hi", "--session", "agent:main:" + "x" * 600],
])
def test_bad_session_keys_say_what_a_key_looks_like(home: Path, args: list[str]) -> None:
    write_config(home, None, port=free_port())
    result = chat(home, *args)
    assert result.code == 1, result.output
    assert "is not a session key" in result.stderr
    assert "agent:<agentId>:<name>" in result.stderr and "agent:main:notes" in result.stderr
    as_json = chat(home, *args, "--json")
    assert as_json.code == 1 and "agent:<agentId>:<name>" in as_json.json()["error"]


def test_usage(home: Path) -> None:
    write_config(home, None, port=free_port())
    empty = chat(home, "   ")
    assert empty.code == 1 and "no message to send" in empty.stderr
    missing = run_cli(home, "chat")
    assert missing.code == 2 and "TEXT" in missing.stderr
    helped = run_cli(home, "chat", "--help")
    assert helped.code == 0 and "--session" in helped.stdout and "--json" in helped.stdout


def test_pairing_required_shows_the_approve_commands(procs: Processes, home: Path, tmp_path: Path) -> None:
    """A remote reached from a non-loopback address waits for this device to be approved; the
    CLI shows the commands, and after `molt-desktop devices approve` the same command works."""
    with non_loopback_address() as host:
        remote, server_home = remote_gateway(procs, tmp_path, bind=host.address)
        url = f"ws://{host.address}:{remote.port}"
        with_remote(home, free_port(), url)

        waiting = chat(home, "Let me in")
        assert waiting.code == 1, waiting.output
        assert "PAIRING_REQUIRED" in waiting.stderr or "waits for approval" in waiting.stderr
        assert "molt-desktop devices approve " in waiting.stderr
        assert "openclaw devices approve " in waiting.stderr
        request_id = waiting.stderr.split("molt-desktop devices approve ", 1)[1].split()[0].strip("`.,")

        approved = run_cli(server_home, "devices", "approve", request_id)
        assert approved.code == 0, approved.output

        result = chat(home, "Let me in", "--json")
        assert result.code == 0, result.output
        assert result.json()["text"] == REMOTE_TEXT
        assert result.json()["endpoint"] == {"id": "server", "url": url, "kind": "remote"}
        assert_no_secret([REMOTE_TOKEN], home, waiting.output, result.output)
