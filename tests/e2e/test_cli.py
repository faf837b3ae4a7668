"""The `molt-desktop` command line, each command a real subprocess with its own MOLT_DESKTOP_HOME.

Children run without a keyring (`keyring.backends.fail.Keyring`) unless a test gives them the
plaintext file keyring of keyrings.alt in a temp XDG_DATA_HOME. No secret may appear in the
stdout, stderr or log files of these runs.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import json5
import pytest

from molt_desktop.client.connection import GatewayCallError
from molt_desktop.gateway.pairing import DeviceClaim, PairingStore
from molt_desktop.protocol.device import DeviceIdentity
from tests.e2e.conftest import (
    FILE_KEYRING,
    PYTHON,
    REPO,
    TOKEN,
    CliResult,
    Processes,
    assert_no_secret,
    clean_env,
    free_port,
    gateway_client,
    run_cli,
    wait_until,
    write_config,
)

FIXTURE = REPO / "tests" / "fixtures" / "state-2026.1.29"
TRANSCRIPTS = ("1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl", "5529e951-aeb9-4604-9ac6-f72c2a5ae541.jsonl")
FIXTURE_SECRETS = ["v129-token-789", "fake-key"]


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """Something else listening on a loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


# --- help and usage --------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [False, True], ids=["python-m", "console-script"])
def test_help_works_without_a_keyring(home: Path, script: bool) -> None:
    top = run_cli(home, "--help", script=script)
    assert top.code == 0, top.output
    assert top.stdout.startswith("usage: molt-desktop")
    for command in ("gateway", "call", "sessions", "devices", "import", "doctor"):
        assert command in top.stdout
    gateway = run_cli(home, "gateway", "--help", script=script)
    assert gateway.code == 0, gateway.output
    assert "--port" in gateway.stdout and "--bind" in gateway.stdout
    assert not (home / "logs").exists() or not any((home / "logs").iterdir()), "--help must not start anything"


@pytest.mark.parametrize("args", [
    ["no-such-command"], ["gateway", "--port", "abc"], ["gateway", "--port", "70000"], ["gateway", "--nope"],
    ["devices"], ["devices", "approve"], ["call"], ["import"], ["sessions", "--limit", "many"],
])
def test_usage_errors_exit_2(home: Path, args: list[str]) -> None:
    result = run_cli(home, *args)
    assert result.code == 2, result.output
    assert "molt-desktop" in result.stderr and result.stdout == ""


# --- call, sessions --------------------------------------------------------------------------------


def call(home: Path, method: str, params: dict[str, Any] | None = None, *args: str) -> CliResult:
    extra = ["--params", json.dumps(params, ensure_ascii=False)] if params is not None else []
    return run_cli(home, "call", method, *extra, *args)


def wait_for_reply(home: Path, key: str) -> list[dict[str, Any]]:
    def answered() -> list[dict[str, Any]] | None:
        result = call(home, "chat.history", {"sessionKey": key}, "--json")
        assert result.code == 0, result.output
        messages = result.json()["messages"]
        return messages if any(m["role"] == "assistant" for m in messages) else None

    return list(wait_until(answered, 30, f"the reply in {key}", interval=0.1))


@pytest.mark.slow
def test_call_and_sessions_against_a_running_gateway(procs: Processes, home: Path) -> None:
    fake = procs.fake()
    port = free_port()
    config = write_config(home, {"fake": fake.base_url}, port=port)
    api_key = config["models"]["providers"]["fake"]["apiKey"]
    gw = procs.gateway(home, port=None)  # gateway.port from the config, so `call` finds it unaided
    assert gw.port == port
    outputs: list[str] = []

    health = call(home, "health", None, "--json")
    outputs.append(health.output)
    assert health.code == 0, health.output
    payload = health.json()
    assert payload["ok"] is True and payload["defaultAgentId"] == "main"
    assert payload["sessions"]["count"] == 0

    for bad in ("{bad json", "[1, 2]"):
        result = call(home, "health", None, "--params", bad)
        outputs.append(result.output)
        assert result.code == 2, result.output
        assert "--params" in result.stderr

    dead = free_port()
    result = call(home, "health", None, "--url", f"ws://127.0.0.1:{dead}", "--timeout", "5")
    outputs.append(result.output)
    assert result.code == 1, result.output
    assert f"cannot reach the gateway at ws://127.0.0.1:{dead}" in result.stderr
    assert "Traceback" not in result.stderr

    result = call(home, "health", None, "--token", "not-the-right-token-at-all")
    outputs.append(result.output)
    assert result.code == 1 and "token mismatch" in result.stderr, result.output

    result = call(home, "no.such.method")
    outputs.append(result.output)
    assert result.code == 1 and "unknown method" in result.stderr, result.output

    sessions = {"agent:main:deploy": "请帮我把网关部署到服务器上", "agent:main:weather": "What is the weather like?"}
    for key, message in sessions.items():
        run_id = str(uuid.uuid4())
        sent = call(home, "chat.send", {"sessionKey": key, "message": message, "idempotencyKey": run_id}, "--json")
        outputs.append(sent.output)
        assert sent.code == 0, sent.output
        assert sent.json() == {"runId": run_id, "status": "started"}
        messages = wait_for_reply(home, key)
        assert messages[0]["role"] == "user" and messages[0]["content"][0]["text"] == message
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"][0]["text"]

    # `sessions` reads the state dir directly, while the gateway runs
    listing = run_cli(home, "sessions")
    outputs.append(listing.output)
    assert listing.code == 0, listing.output
    assert "agent:main:deploy" in listing.stdout and "agent:main:weather" in listing.stdout

    as_json = run_cli(home, "sessions", "--json")
    outputs.append(as_json.output)
    assert as_json.code == 0, as_json.output
    data = as_json.json()
    assert data["count"] == 2 and {s["key"] for s in data["sessions"]} == set(sessions)
    assert data["path"] == str(home / "agents" / "main" / "sessions" / "sessions.json")
    assert all(s["sessionId"] and s["updatedAt"] for s in data["sessions"])

    found = run_cli(home, "sessions", "--search", "部署", "--json")
    outputs.append(found.output)
    assert found.code == 0, found.output
    assert [s["key"] for s in found.json()["sessions"]] == ["agent:main:deploy"]
    found = run_cli(home, "sessions", "--search", "部署")
    outputs.append(found.output)
    assert found.code == 0 and "agent:main:deploy" in found.stdout and "weather" not in found.stdout
    found = run_cli(home, "sessions", "--search", "weather", "--json")
    assert [s["key"] for s in found.json()["sessions"]] == ["agent:main:weather"]
    none = run_cli(home, "sessions", "--search", "kubernetes")
    outputs.append(none.output)
    assert none.code == 0 and "No session matches" in none.stdout

    assert gw.stop() == 0
    assert_no_secret([TOKEN, api_key], home, gw.stdout(), gw.stderr(), *outputs)


# --- devices ---------------------------------------------------------------------------------------


def pending_request(home: Path, name: str, remote: str = "192.0.2.77") -> tuple[str, DeviceIdentity]:
    identity = DeviceIdentity.generate()
    claim = DeviceClaim(identity.device_id, identity.public_key_b64url, display_name=name, platform="linux",
                        client_id="cli", client_mode="cli")
    store = PairingStore(home / "devices")
    return store.request(claim, ["operator.read", "operator.write"], remote), identity


def device_tokens(home: Path) -> list[str]:
    paired = json.loads((home / "devices" / "paired.json").read_text(encoding="utf-8"))
    return [t["token"] for d in paired.values() for t in d.get("tokens", {}).values()]


def test_devices_list_approve_reject(home: Path) -> None:
    keep, keep_id = pending_request(home, "Laptop")
    drop, drop_id = pending_request(home, "Stranger")
    outputs: list[str] = []

    listing = run_cli(home, "devices", "list", "--json")
    outputs.append(listing.output)
    assert listing.code == 0, listing.output
    pending = {r["requestId"]: r for r in listing.json()["pending"]}
    assert set(pending) == {keep, drop}
    assert pending[keep]["deviceId"] == keep_id.device_id and pending[keep]["remoteIp"] == "192.0.2.77"
    text = run_cli(home, "devices", "list")
    assert text.code == 0 and keep in text.stdout and drop in text.stdout and "Pending requests (2)" in text.stdout

    approved = run_cli(home, "devices", "approve", keep)
    outputs.append(approved.output)
    assert approved.code == 0, approved.output
    assert keep_id.device_id in approved.stdout
    rejected = run_cli(home, "devices", "reject", drop)
    outputs.append(rejected.output)
    assert rejected.code == 0, rejected.output

    listing = run_cli(home, "devices", "list", "--json")
    outputs.append(listing.output)
    data = listing.json()
    assert data["pending"] == []
    assert [d["deviceId"] for d in data["paired"]] == [keep_id.device_id]
    assert PairingStore(home / "devices").is_paired(keep_id.device_id, keep_id.public_key_b64url)
    assert not PairingStore(home / "devices").is_paired(drop_id.device_id)

    for action, request_id in (("approve", drop), ("reject", keep), ("approve", str(uuid.uuid4()))):
        result = run_cli(home, "devices", action, request_id)
        outputs.append(result.output)
        assert result.code == 1, result.output
        assert request_id in result.stderr and "devices list" in result.stderr
    tokens = device_tokens(home)
    assert tokens
    assert_no_secret(tokens, home, *outputs)


def non_loopback_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("203.0.113.1", 9))  # TEST-NET-3: routed like the internet
            address = str(sock.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.slow
async def test_remote_device_waits_for_cli_approval(procs: Processes, home: Path) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    write_config(home)
    gw = procs.gateway(home, "--bind", address)
    assert gw.host == address
    device = DeviceIdentity.generate()
    with pytest.raises(GatewayCallError) as refused:
        async with gateway_client(gw.url, device=device):
            pass
    assert refused.value.code == "NOT_PAIRED"
    details = refused.value.details
    assert details["code"] == "PAIRING_REQUIRED"
    request_id = details["requestId"]

    listing = await asyncio.to_thread(run_cli, home, "devices", "list", "--json")
    [request] = listing.json()["pending"]
    assert request["requestId"] == request_id and request["deviceId"] == device.device_id
    assert request["remoteIp"] == address
    approved = await asyncio.to_thread(run_cli, home, "devices", "approve", request_id)
    assert approved.code == 0, approved.output

    async with gateway_client(gw.url, device=device) as (conn, _):
        assert conn.hello["auth"]["deviceToken"]
        device_token = conn.hello["auth"]["deviceToken"]
        assert (await conn.call("health"))["ok"] is True
    assert gw.stop() == 0
    assert_no_secret([TOKEN, device_token], home, gw.stderr(), listing.output, approved.output)


# --- import ----------------------------------------------------------------------------------------


def openclaw_dir(tmp_path: Path) -> Path:
    """The fixture state folder laid out as ~/.openclaw."""
    source = tmp_path / "dot-openclaw"
    sessions = source / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copyfile(FIXTURE / "openclaw.json", source / "openclaw.json")
    for name in ("sessions.json", *TRANSCRIPTS):
        shutil.copyfile(FIXTURE / name, sessions / name)
    return source


def keyring_get(home: Path, name: str) -> str | None:
    code = f"import keyring; print(keyring.get_password('molt-desktop', {name!r}) or '')"
    done = subprocess.run([PYTHON, "-c", code], env=clean_env(home, keyring_backend=FILE_KEYRING), cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip() or None


def check_sessions_copied(home: Path) -> None:
    target = home / "agents" / "main" / "sessions"
    for name in TRANSCRIPTS:
        assert (target / name).read_bytes() == (FIXTURE / name).read_bytes(), f"{name} changed"
    assert json.loads((target / "sessions.json").read_text(encoding="utf-8")) == \
        json.loads((FIXTURE / "sessions.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_import_moves_secrets_into_the_keyring(procs: Processes, home: Path, tmp_path: Path) -> None:
    source = openclaw_dir(tmp_path)
    result = run_cli(home, "import", str(source), "--json", keyring_backend=FILE_KEYRING)
    assert result.code == 0, result.output
    report = result.json()
    assert report["sessions_imported"] == 2 and report["transcripts_copied"] == 2
    assert sorted(report["secrets_moved"]) == ["gateway.auth.token", "models.providers.fake.apiKey"]
    assert report["secrets_left"] == []
    check_sessions_copied(home)

    text = (home / "moltbot.json").read_text(encoding="utf-8")
    for secret in FIXTURE_SECRETS:
        assert secret not in text
    converted = json5.loads(text)
    assert converted["gateway"]["auth"] == {"mode": "token", "token": "keyring:gateway.token"}
    assert converted["models"]["providers"]["fake"]["apiKey"] == "keyring:provider.fake.apiKey"
    assert converted["gateway"]["port"] == 18798 and "meta" not in converted
    assert converted["agents"]["defaults"]["model"]["primary"] == "fake/fake-1"
    assert keyring_get(home, "gateway.token") == "v129-token-789"
    assert keyring_get(home, "provider.fake.apiKey") == "fake-key"

    listing = run_cli(home, "sessions", "--json", keyring_backend=FILE_KEYRING)
    assert {s["key"] for s in listing.json()["sessions"]} == {"agent:main:desktop-probe", "agent:main:agentprobe"}
    again = run_cli(home, "import", str(source), "--json", keyring_backend=FILE_KEYRING)
    assert again.code == 0, again.output
    assert again.json()["sessions_imported"] == 0 and len(again.json()["sessions_skipped"]) == 2
    check_sessions_copied(home)

    # the imported config runs: the gateway and `call` both read the token from the keyring
    gw = procs.gateway(home, keyring_backend=FILE_KEYRING)
    health = run_cli(home, "call", "health", "--json", "--url", gw.url, keyring_backend=FILE_KEYRING)
    assert health.code == 0, health.output
    assert health.json()["sessions"]["count"] == 2
    assert gw.stop() == 0

    # What the uninstaller's "Remove my data" runs: every secret this installation stored goes.
    stored = run_cli(home, "secrets", "list", "--json", keyring_backend=FILE_KEYRING)
    assert stored.code == 0, stored.output
    names = stored.json()["names"]
    assert {"gateway.token", "provider.fake.apiKey"} <= set(names), names
    assert "molt-desktop.names" not in names
    one = run_cli(home, "secrets", "forget", "provider.fake.apiKey", "no.such.secret", keyring_backend=FILE_KEYRING)
    assert one.code == 1 and "'no.such.secret'" in one.stderr, one.output
    assert keyring_get(home, "provider.fake.apiKey") is None and keyring_get(home, "gateway.token") is not None
    usage = run_cli(home, "secrets", "forget", keyring_backend=FILE_KEYRING)
    assert usage.code == 2
    forgot = run_cli(home, "secrets", "forget", "--all", keyring_backend=FILE_KEYRING)
    assert forgot.code == 0, forgot.output
    assert f"Deleted {len(names) - 1} secret(s)" in forgot.stdout
    for name in [*names, "molt-desktop.names"]:
        assert keyring_get(home, name) is None, name
    empty = run_cli(home, "secrets", "list", keyring_backend=FILE_KEYRING)
    assert empty.code == 0 and "No secrets are stored" in empty.stdout
    assert_no_secret(FIXTURE_SECRETS, home, result.output, again.output, listing.output, health.output,
                     gw.stderr(), stored.output, one.output, forgot.output)


def test_import_without_keyring_keeps_secrets_and_warns(home: Path, tmp_path: Path) -> None:
    source = openclaw_dir(tmp_path)
    as_json = run_cli(home, "import", str(source), "--json")
    assert as_json.code == 0, as_json.output
    report = as_json.json()
    assert report["secrets_moved"] == []
    assert sorted(report["secrets_left"]) == ["gateway.auth.token", "models.providers.fake.apiKey"]
    assert any("keyring" in w for w in report["warnings"])
    check_sessions_copied(home)
    converted = json5.loads((home / "moltbot.json").read_text(encoding="utf-8"))
    assert converted["gateway"]["auth"]["token"] == "v129-token-789"
    assert converted["models"]["providers"]["fake"]["apiKey"] == "fake-key"

    other = tmp_path / "home2"
    text = run_cli(other, "import", str(source))
    assert text.code == 0, text.output
    assert "warning: no OS keyring" in text.stdout and "gateway.auth.token" in text.stdout
    assert_no_secret(FIXTURE_SECRETS, home, as_json.output, text.output)
    assert_no_secret(FIXTURE_SECRETS, other, text.output)


def test_import_of_a_folder_that_is_not_a_state_dir_fails(home: Path, tmp_path: Path) -> None:
    result = run_cli(home, "import", str(tmp_path))
    assert result.code == 1 and "agents/" in result.stderr, result.output
    result = run_cli(home, "import", str(tmp_path / "missing"))
    assert result.code == 1 and "not a directory" in result.stderr, result.output


# --- doctor ----------------------------------------------------------------------------------------


def doctor(home: Path, secrets: list[str]) -> tuple[int, dict[str, dict[str, Any]], list[dict[str, Any]]]:
    result = run_cli(home, "doctor", "--json")
    assert result.code in (0, 1), result.output
    data = result.json()
    findings = data["findings"]
    assert data["ok"] == (result.code == 0) == all(f["level"] != "error" for f in findings)
    for finding in findings:
        assert finding["level"] in ("ok", "warning", "error")
        if finding["level"] != "ok":
            assert finding["fix"].strip(), f"no fix for {finding}"
    text = run_cli(home, "doctor")
    assert text.code == result.code
    assert_no_secret(secrets, home, result.output, text.output)
    by_check: dict[str, dict[str, Any]] = {}
    for finding in findings:
        by_check.setdefault(finding["check"], finding)
    return result.code, by_check, findings


def test_doctor_auth_mode_none_is_an_error(home: Path) -> None:
    write_config(home, token=None, extra={"gateway": {"auth": {"mode": "none"}}})
    code, by_check, _ = doctor(home, [])
    assert code == 1
    assert by_check["auth"]["level"] == "error" and "none" in by_check["auth"]["message"]


def test_doctor_short_token_plaintext_secrets_and_a_reachable_provider(procs: Processes, home: Path) -> None:
    fake = procs.fake()
    short = "short-token-0123456"  # 19 characters
    config = write_config(home, {"fake": fake.base_url}, token=short)
    api_key = config["models"]["providers"]["fake"]["apiKey"]
    code, by_check, findings = doctor(home, [short, api_key])
    assert code == 0  # warnings only
    assert by_check["auth"]["level"] == "warning" and "short" in by_check["auth"]["message"]
    assert "32" in by_check["auth"]["fix"]
    plaintext = [f for f in findings if f["check"] == "secrets"]
    assert {f["message"].split()[0] for f in plaintext} == {"gateway.auth.token", "models.providers.fake.apiKey"}
    assert all(f["level"] == "warning" and "keyring" in f["fix"] for f in plaintext)
    assert by_check["provider:fake"]["level"] == "ok"
    assert by_check["keyring"]["level"] == "warning"  # these runs have no keyring backend


def test_doctor_short_password_is_a_warning(home: Path) -> None:
    password = "pw-short-1"  # 10 characters
    write_config(home, token=None, extra={"gateway": {"auth": {"mode": "password", "password": password}}})
    code, by_check, _ = doctor(home, [password])
    assert code == 0
    assert by_check["auth"]["level"] == "warning" and "password" in by_check["auth"]["message"].lower()
    assert "12" in by_check["auth"]["fix"]


def test_doctor_reports_the_port_in_use_and_an_unreachable_provider(home: Path,
                                                                    listening_socket: socket.socket) -> None:
    busy = listening_socket.getsockname()[1]
    dead = free_port()
    config = write_config(home, {"gone": f"http://127.0.0.1:{dead}/v1"}, port=busy)
    code, by_check, _ = doctor(home, [TOKEN, config["models"]["providers"]["gone"]["apiKey"]])
    assert code == 1
    assert by_check["port"]["level"] == "warning" and str(busy) in by_check["port"]["message"]
    provider = by_check["provider:gone"]
    assert provider["level"] == "error" and "not reachable" in provider["message"]
    assert "models.providers.gone.baseUrl" in provider["fix"]


def test_doctor_checks_the_sync_server_and_flags_a_plaintext_sync_password(home: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    write_config(home, extra={"sync": {"enabled": True, "backend": "folder", "path": str(share)}})
    code, by_check, findings = doctor(home, [TOKEN])
    sync = [f for f in findings if f["check"] == "sync"]
    assert [f["level"] for f in sync] == ["ok", "warning"], sync
    assert str(share) in sync[0]["message"] and "sync now" in sync[1]["fix"]

    password = "sync-pass-in-the-file-42"
    dead = free_port()
    write_config(home, extra={"sync": {"enabled": True, "host": "127.0.0.1", "port": dead, "username": "me",
                                       "password": password, "path": "/backup"}})
    code, by_check, findings = doctor(home, [TOKEN, password])
    assert code == 1
    assert by_check["sync"]["level"] == "error" and f"127.0.0.1:{dead}" in by_check["sync"]["message"]
    assert "Settings > Sync" in by_check["sync"]["fix"]
    assert any(f["check"] == "secrets" and f["message"].startswith("sync.password") for f in findings)


# --- gateway startup -------------------------------------------------------------------------------


def test_gateway_refuses_a_lan_bind_with_auth_mode_none(procs: Processes, home: Path) -> None:
    write_config(home, token=None, extra={"gateway": {"auth": {"mode": "none"}}})
    gw = procs.gateway(home, "--bind", "0.0.0.0", wait=False)
    assert procs.finish(gw) == 1
    err = gw.stderr()
    assert "Refusing to listen on 0.0.0.0" in err
    assert "gateway.auth.token" in err and "--bind loopback" in err
    assert "gateway ready" not in err and "Traceback" not in err


def test_gateway_refuses_a_lan_bind_with_no_token_and_no_keyring(procs: Processes, home: Path) -> None:
    write_config(home, token=None)  # token mode, no token configured, no keyring to keep one
    gw = procs.gateway(home, "--bind", "0.0.0.0", wait=False)
    assert procs.finish(gw) == 1, f"the gateway started on 0.0.0.0:\n{gw.stderr()}"
    err = gw.stderr()
    assert "Refusing to listen on 0.0.0.0" in err and "MOLT_DESKTOP_GATEWAY_TOKEN" in err


def test_gateway_port_in_use_exits_1_with_a_clear_message(procs: Processes, home: Path,
                                                         listening_socket: socket.socket) -> None:
    busy = listening_socket.getsockname()[1]
    write_config(home)
    gw = procs.gateway(home, port=busy, wait=False)
    assert procs.finish(gw) == 1
    err = gw.stderr()
    assert f"Port {busy} on 127.0.0.1 is already in use" in err and "--port" in err
    assert "Traceback" not in err
    assert_no_secret([TOKEN], home, err)


def test_gateway_on_loopback_without_keyring_or_token_starts_and_says_how_to_keep_one(procs: Processes,
                                                                                    home: Path) -> None:
    write_config(home, token=None)
    gw = procs.gateway(home)
    err = gw.stderr()
    assert "lasts for this run only" in err
    assert "gateway.auth.token" in err and "MOLT_DESKTOP_GATEWAY_TOKEN" in err
    logged = (home / "logs" / "molt-desktop.log").read_text(encoding="utf-8")
    assert "MOLT_DESKTOP_GATEWAY_TOKEN" in logged
    status, body = gw.get_json("/health")
    assert status == 200 and body["ok"] is True
    assert gw.stop() == 0  # SIGTERM: a clean shutdown
    assert "stopping: gateway" in gw.stderr()
