"""Every recorded handshake, replayed through authenticate_connect, gets the recorded answer.

The captures come from the real gateways (OpenClaw 2026.9.6, protocol 4; 2026.1.29, protocol 3,
files `frames-v129-*`). Loopback captures ran against a gateway on the same host, the
`remote-*` ones from another address.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from molt_desktop.gateway.auth import AuthConfig, hello_auth
from molt_desktop.protocol.frames import CLOSE_POLICY, CLOSE_PROTOCOL, GatewayError, response_error
from tests.schema import validate
from tests.unit.auth_support import REMOTE, Gateway, recorded

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
V129 = AuthConfig("token", "v129-token-789")


def _gateway(tmp_path: Path, protocol: int = 4, auth: AuthConfig | None = None) -> Gateway:
    gw = Gateway(tmp_path / "devices", protocol=protocol)
    if auth is not None:
        gw.auth = auth
    return gw


def _rejection(gw: Gateway, name: str, remote: str = "127.0.0.1") -> GatewayError:
    with pytest.raises(GatewayError) as info:
        gw.replay(recorded(name), remote=remote)
    validate("ResponseFrame", response_error("1", info.value))
    return info.value


@pytest.mark.parametrize(("name", "protocol", "auth"), [
    ("badproto", 4, None),
    ("badtoken", 4, None),
    ("v129-badproto", 3, V129),
    ("v129-badtoken", 3, V129),
])
def test_recorded_rejections_are_reproduced_exactly(
    tmp_path: Path, name: str, protocol: int, auth: AuthConfig | None
) -> None:
    rec = recorded(name)
    err = _rejection(_gateway(tmp_path, protocol, auth), name)
    assert err.to_shape() == rec.response["error"]
    expected_close = CLOSE_PROTOCOL if "badproto" in name else CLOSE_POLICY
    assert err.close_code == expected_close
    if rec.close is not None:  # the protocol-3 captures end before the close frame
        assert (err.close_code, err.close_reason) == (rec.close["code"], rec.close["reason"])


def test_remote_device_needs_pairing(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    rec = recorded("remote-device")
    err = _rejection(gw, "remote-device", remote=REMOTE)
    expected = rec.response["error"]
    assert (err.code, err.message, err.close_code) == (expected["code"], expected["message"], CLOSE_POLICY)
    assert err.details is not None
    assert UUID.match(err.details["requestId"])
    assert {**err.details, "requestId": "x"} == {**expected["details"], "requestId": "x"}
    pending = gw.pairing.list()["pending"]
    assert [p["requestId"] for p in pending] == [err.details["requestId"]]
    assert gw.events == [("device.pair.requested", pending[0])]


def test_remote_device_connects_after_approval(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    with pytest.raises(GatewayError) as info:
        gw.replay(recorded("remote-device"), remote=REMOTE)
    assert info.value.details is not None
    gw.pairing.approve(info.value.details["requestId"])
    rec = recorded("remote-device2")
    result = gw.replay(rec, remote=REMOTE)
    auth = hello_auth(result)
    assert auth is not None
    expected = rec.hello["auth"]
    assert {k: auth[k] for k in ("method", "role", "scopes")} == {k: expected[k] for k in ("method", "role", "scopes")}
    assert auth["deviceToken"] and auth["issuedAtMs"] <= rec.challenge["ts"]
    assert result.device_id == rec.params["device"]["id"]
    assert not result.auto_approved


def test_local_device_is_approved_silently(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    rec = recorded("device")
    result = gw.replay(rec)
    auth = hello_auth(result)
    expected = rec.hello["auth"]
    assert auth is not None
    assert (auth["method"], auth["role"], auth["scopes"]) == (expected["method"], expected["role"], expected["scopes"])
    assert auth["deviceToken"] and result.auto_approved
    assert gw.pairing.is_paired(rec.params["device"]["id"], rec.params["device"]["publicKey"])
    assert [name for name, _ in gw.events] == ["device.pair.resolved"]


def test_device_token_in_auth_token(tmp_path: Path) -> None:
    """frames-devtoken: the device signs and sends its device token instead of the gateway token."""
    rec = recorded("devtoken")
    device = rec.params["device"]
    expected = rec.hello["auth"]
    devices = tmp_path / "devices"
    devices.mkdir()
    # paired.json as OpenClaw wrote it after the approval that issued this token
    (devices / "paired.json").write_text(json.dumps({
        device["id"]: {
            "deviceId": device["id"], "publicKey": device["publicKey"], "displayName": "PySide tray probe",
            "platform": "linux", "clientId": "gateway-client", "clientMode": "ui", "role": "operator",
            "roles": ["operator"], "scopes": expected["scopes"], "approvedScopes": expected["scopes"],
            "tokens": {"operator": {"token": expected["deviceToken"], "role": "operator",
                                    "scopes": sorted(expected["scopes"]), "createdAtMs": expected["issuedAtMs"]}},
            "createdAtMs": expected["issuedAtMs"], "approvedAtMs": expected["issuedAtMs"],
        }
    }))
    gw = _gateway(tmp_path)
    result = gw.replay(rec)
    assert result.method == "device-token"
    auth = hello_auth(result)
    assert auth is not None
    assert auth == {k: expected[k] for k in ("method", "role", "scopes", "deviceToken", "issuedAtMs")}


@pytest.mark.parametrize(("name", "remote"), [
    ("nodevice-cli", "127.0.0.1"),
    ("nodevice-ui", "127.0.0.1"),
    ("remote-nodevice", REMOTE),
])
def test_shared_token_without_device(tmp_path: Path, name: str, remote: str) -> None:
    rec = recorded(name)
    result = _gateway(tmp_path).replay(rec, remote=remote)
    auth = hello_auth(result)
    expected = rec.hello["auth"]
    assert auth == {k: expected[k] for k in ("method", "role", "scopes")}
    assert result.device_token is None


def test_protocol3_device(tmp_path: Path) -> None:
    rec = recorded("v129-device")
    result = _gateway(tmp_path, 3, V129).replay(rec)
    assert result.protocol == 3 == rec.hello["protocol"]
    auth = hello_auth(result)
    expected = rec.hello["auth"]
    assert auth is not None and set(auth) == set(expected)
    assert (auth["role"], auth["scopes"]) == (expected["role"], expected["scopes"])  # token scopes, sorted


@pytest.mark.parametrize(("name", "scopes"), [
    ("v129-nodevice-cli", ["operator.read", "operator.write", "operator.admin", "operator.approvals"]),
    # 2026.1.29 kept self-declared scopes here; PROTOCOL.md section 2.8 (and 2026.9.6) clear them.
    ("v129-nodevice-ui", []),
])
def test_protocol3_without_device(tmp_path: Path, name: str, scopes: list[str]) -> None:
    rec = recorded(name)
    result = _gateway(tmp_path, 3, V129).replay(rec)
    assert result.protocol == 3 == rec.hello["protocol"]
    assert hello_auth(result) is None and "auth" not in rec.hello
    assert result.scopes == scopes
