"""The real `openclaw` CLI drives our gateway: `molt-desktop gateway` runs as a process with a fake
model, and `openclaw gateway call METHOD --url ws://127.0.0.1:P --json` of 2026.9.6 (protocol 4,
token on the command line, no device identity) and 2026.1.29 (protocol 3, token from
OPENCLAW_GATEWAY_TOKEN, signed v2 device identity) talk to it exactly as they talk to OpenClaw.

One gateway serves the whole module; each test uses its own session key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.e2e.interop.helpers import (
    V_CURRENT,
    V_FILE_ERA,
    CliResult,
    MoltGateway,
    OpenClawCli,
    assistant_texts,
    message_text,
    poll_cli,
)
from tests.fakes.common import DEFAULT_TEXT

pytestmark = [pytest.mark.interop, pytest.mark.slow]

TOKEN = "molt-interop-token-5d1f0c"
STALE_HASH_MESSAGE = "config changed since last load; re-run config.get and retry"
NO_HASH_MESSAGE = "config base hash required; re-run config.get and retry"


@pytest.fixture(scope="module")
def gateway(molt_gateway: Callable[..., AbstractContextManager[MoltGateway]], fake_openai_base_url: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[MoltGateway]:
    state = tmp_path_factory.mktemp("molt-gateway") / "state"
    with molt_gateway(state, TOKEN, model_base_url=fake_openai_base_url) as gw:
        yield gw


@pytest.fixture(scope="module")
def cli(openclaw_cli: Callable[[str], OpenClawCli]) -> OpenClawCli:
    return openclaw_cli(V_CURRENT)


def call(cli: OpenClawCli, gateway: MoltGateway, method: str, params: dict[str, Any] | None = None,
         *, token: str = TOKEN) -> CliResult:
    return cli.call(method, params, port=gateway.port, token=token)


def ok(result: CliResult) -> Any:
    """The payload of a successful call; otherwise fail with everything the CLI said."""
    assert result.code == 0, f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.data is not None, result.stdout
    return result.data


def test_health(cli: OpenClawCli, gateway: MoltGateway) -> None:
    health = ok(call(cli, gateway, "health"))
    assert health["ok"] is True
    assert isinstance(health["ts"], int)
    assert health["defaultAgentId"] == "main"
    assert [(a["agentId"], a["isDefault"]) for a in health["agents"]] == [("main", True)]
    sessions_path = gateway.state_dir / "agents" / "main" / "sessions" / "sessions.json"
    assert health["sessions"]["path"] == str(sessions_path)
    assert health["agents"][0]["sessions"]["path"] == str(sessions_path)
    on_disk = json.loads(sessions_path.read_text()) if sessions_path.exists() else {}
    assert health["sessions"]["count"] == len(on_disk)
    assert health["channels"] == {} and health["channelOrder"] == []


def test_sessions_list(cli: OpenClawCli, gateway: MoltGateway) -> None:
    listing = ok(call(cli, gateway, "sessions.list"))
    assert listing["count"] == len(listing["sessions"])
    assert listing["defaults"]["modelProvider"] == "fake"
    assert listing["defaults"]["model"] == "fake-1"
    assert listing["defaults"]["contextTokens"] == 32000


def test_chat_send_then_history_shows_the_streamed_reply(cli: OpenClawCli, gateway: MoltGateway) -> None:
    key = f"agent:main:cli-{uuid.uuid4().hex[:8]}"
    idem = f"idem-{uuid.uuid4()}"
    before = ok(call(cli, gateway, "sessions.list"))
    assert key not in [s["key"] for s in before["sessions"]]

    sent = ok(call(cli, gateway, "chat.send", {"sessionKey": key, "message": "hello from the openclaw cli",
                                               "idempotencyKey": idem}))
    assert sent == {"runId": idem, "status": "started"}

    history_result = poll_cli(lambda: call(cli, gateway, "chat.history", {"sessionKey": key}),
                              lambda r: r.ok and bool(assistant_texts(r.data)), timeout=45)
    history = ok(history_result)
    assert history["sessionKey"] == key
    messages = history["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"], messages
    assert message_text(messages[0]) == "hello from the openclaw cli"
    assert message_text(messages[1]) == DEFAULT_TEXT
    assert messages[1]["provider"] == "fake" and messages[1]["model"] == "fake-1"
    assert messages[1]["stopReason"] == "stop"

    after = ok(call(cli, gateway, "sessions.list"))
    entries = {s["key"]: s for s in after["sessions"]}
    assert key in entries
    assert entries[key]["sessionId"] == history["sessionId"]
    assert entries[key]["modelProvider"] == "fake" and entries[key]["model"] == "fake-1"
    assert after["count"] == before["count"] + 1

    # The same idempotencyKey again: OpenClaw's cached result of the finished run, no second run.
    again = ok(call(cli, gateway, "chat.send", {"sessionKey": key, "message": "hello from the openclaw cli",
                                                "idempotencyKey": idem}))
    assert again == {"runId": idem, "status": "ok"}
    assert len(ok(call(cli, gateway, "chat.history", {"sessionKey": key}))["messages"]) == 2


def test_config_get_then_patch_with_its_hash(cli: OpenClawCli, gateway: MoltGateway) -> None:
    config_path = gateway.state_dir / "moltbot.json"
    got = ok(call(cli, gateway, "config.get"))
    assert got["path"] == str(config_path)
    assert got["exists"] is True and got["valid"] is True
    assert TOKEN not in got["raw"] and TOKEN not in json.dumps(got["config"])
    assert got["config"]["gateway"]["auth"]["token"] == "__OPENCLAW_REDACTED__"
    assert got["config"]["agents"]["defaults"]["model"]["primary"] == "fake/fake-1"
    base_hash = got["hash"]
    assert isinstance(base_hash, str) and base_hash

    patch = {"agents": {"defaults": {"maxConcurrent": 3}}}
    patched = ok(call(cli, gateway, "config.patch", {"raw": json.dumps(patch), "baseHash": base_hash}))
    assert patched["ok"] is True
    assert patched["path"] == str(config_path)
    assert patched["hash"] != base_hash
    assert patched["config"]["agents"]["defaults"]["maxConcurrent"] == 3
    assert json.loads(config_path.read_text())["agents"]["defaults"]["maxConcurrent"] == 3

    again = ok(call(cli, gateway, "config.get"))
    assert again["hash"] == patched["hash"]
    assert again["config"]["agents"]["defaults"]["maxConcurrent"] == 3

    # A stale baseHash: the exact OpenClaw error, exit 1, nothing written.
    stale = call(cli, gateway, "config.patch", {"raw": json.dumps({"agents": {"defaults": {"maxConcurrent": 2}}}),
                                                "baseHash": base_hash})
    assert stale.code == 1, stale.stdout
    assert stale.data["ok"] is False
    assert stale.data["error"]["type"] == "gateway_request_error"
    assert stale.data["error"]["code"] == "INVALID_REQUEST"
    assert stale.data["error"]["message"] == STALE_HASH_MESSAGE
    assert json.loads(config_path.read_text())["agents"]["defaults"]["maxConcurrent"] == 3

    missing = call(cli, gateway, "config.patch", {"raw": json.dumps(patch)})
    assert missing.code == 1, missing.stdout
    assert missing.data["error"]["message"] == NO_HASH_MESSAGE


def test_config_get_does_not_redact_session_main_key(cli: OpenClawCli, gateway: MoltGateway) -> None:
    got = ok(call(cli, gateway, "config.get"))
    assert got["config"]["session"]["mainKey"] == "main"


def test_wrong_token_is_the_clis_error_and_exit_1(cli: OpenClawCli, gateway: MoltGateway,
                                                  openclaw_cli: Callable[[str], OpenClawCli]) -> None:
    result = call(cli, gateway, "health", token="not-the-token")
    assert result.code == 1, result.stdout
    error = result.data["error"]
    assert result.data["ok"] is False
    if error["type"] == "gateway_request_error":  # the connect `res` error reached the CLI first
        assert error["code"] == "INVALID_REQUEST"
        assert error["message"].startswith("unauthorized: gateway token mismatch")
        assert error["details"]["code"] == "AUTH_TOKEN_MISMATCH"
        assert "gateway connect failed: GatewayClientRequestError: unauthorized: gateway token mismatch" \
            in result.stderr
    else:  # the close frame won the race: its reason carries the same message
        assert error["type"] == "gateway_transport_error", error
        assert error["code"] == 1008
        assert error["reason"].startswith("unauthorized: gateway token mismatch")

    # 2026.1.29 (fresh: no device token it could use instead): nothing on stdout, text on stderr.
    old = openclaw_cli(V_FILE_ERA).fresh().call("health", port=gateway.port, token="not-the-token")
    assert old.code == 1
    assert old.stdout.strip() == ""
    assert "unauthorized: gateway token mismatch" in old.stderr


def test_v129_cli_health_and_sessions_list(gateway: MoltGateway,
                                          openclaw_cli: Callable[[str], OpenClawCli]) -> None:
    """Protocol 3 with a signed v2 device identity; the second call may authenticate with the
    device token our gateway issued to the first."""
    old = openclaw_cli(V_FILE_ERA).fresh()
    health = ok(old.call("health", port=gateway.port, token=TOKEN))
    assert health["ok"] is True and health["defaultAgentId"] == "main"

    device_auth = json.loads((old.state_dir / "identity" / "device-auth.json").read_text())
    device_id = device_auth["deviceId"]
    assert device_auth["tokens"]["operator"]["token"]
    paired = json.loads((gateway.state_dir / "devices" / "paired.json").read_text())
    assert device_id in paired  # approved silently on loopback

    listing = ok(old.call("sessions.list", port=gateway.port, token=TOKEN))
    assert listing["count"] == len(listing["sessions"])
    assert listing["defaults"]["model"] == "fake-1"
    current = ok(openclaw_cli(V_CURRENT).call("sessions.list", port=gateway.port, token=TOKEN))
    assert [s["key"] for s in listing["sessions"]] == [s["key"] for s in current["sessions"]]
