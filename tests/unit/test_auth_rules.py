"""gateway/auth.py: device proofs, credentials, pairing and scope rules of PROTOCOL.md section 2."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.gateway.auth import AuthConfig, AuthResult, authenticate_connect
from molt_desktop.logs import redact
from molt_desktop.protocol.device import DeviceIdentity
from molt_desktop.protocol.frames import CLOSE_POLICY, GatewayError, response_error
from molt_desktop.protocol.methods import validate_connect_params
from tests.schema import validate
from tests.unit.auth_support import ALL_SCOPES, LOCAL, REMOTE, Gateway, signed_connect

TS = 1_700_000_000_000
NONCE = "nonce-1"


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    return Gateway(tmp_path / "devices")


@pytest.fixture
def identity() -> DeviceIdentity:
    return DeviceIdentity.generate()


def ok(gw: Gateway, params: dict[str, Any], remote: str = LOCAL, **kw: Any) -> AuthResult:
    return gw.connect(params, nonce=kw.pop("nonce", NONCE), ts=kw.pop("ts", TS), remote=remote, **kw)


def refused(gw: Gateway, params: dict[str, Any], remote: str = LOCAL, **kw: Any) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        ok(gw, params, remote, **kw)
    err = info.value
    validate("ResponseFrame", response_error("1", err))
    assert err.close_code is not None
    return err


def no_device(client_id: str = "cli", mode: str = "cli", auth: dict[str, Any] | None = None,
              role: str = "operator") -> dict[str, Any]:
    return {"minProtocol": 3, "maxProtocol": 4, "role": role, "scopes": ALL_SCOPES,
            "client": {"id": client_id, "version": "1", "platform": "linux", "mode": mode},
            "auth": {"token": "test-token-123"} if auth is None else auth}


# --- device proof -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_valid_signatures_are_accepted(gw: Gateway, identity: DeviceIdentity, version: str) -> None:
    result = ok(gw, signed_connect(identity, version=version, device_family="Desktop", signed_at=TS))
    assert (result.method, result.scopes, result.device_id) == ("token", ALL_SCOPES, identity.device_id)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"nonce": "other"}, "DEVICE_AUTH_NONCE_MISMATCH", "device nonce mismatch"),
        ({"nonce": "   "}, "DEVICE_AUTH_NONCE_REQUIRED", "device nonce required"),
        ({"signed_at": TS - 120_001}, "DEVICE_AUTH_SIGNATURE_EXPIRED", "device signature expired"),
        ({"signed_at": TS + 120_001}, "DEVICE_AUTH_SIGNATURE_EXPIRED", "device signature expired"),
        ({"sign_overrides": {"scopes": ["operator.read"]}}, "DEVICE_AUTH_SIGNATURE_INVALID", "device signature invalid"),
        ({"sign_overrides": {"token": "other"}}, "DEVICE_AUTH_SIGNATURE_INVALID", "device signature invalid"),
        ({"sign_overrides": {"client_mode": "cli"}}, "DEVICE_AUTH_SIGNATURE_INVALID", "device signature invalid"),
        ({"sign_overrides": {"platform": "windows"}}, "DEVICE_AUTH_SIGNATURE_INVALID", "device signature invalid"),
    ],
)
def test_device_proof_failures(gw: Gateway, identity: DeviceIdentity, change: dict[str, Any], code: str,
                               message: str) -> None:
    err = refused(gw, signed_connect(identity, **{"signed_at": TS, **change}))
    assert (err.code, err.message, err.close_code) == ("INVALID_REQUEST", message, CLOSE_POLICY)
    assert err.details is not None and err.details["code"] == code
    assert not gw.pairing.is_paired(identity.device_id)


def test_signature_age_limit_is_inclusive(gw: Gateway, identity: DeviceIdentity) -> None:
    ok(gw, signed_connect(identity, signed_at=TS - 120_000))
    ok(gw, signed_connect(identity, signed_at=TS), now_ms=TS + 120_000)
    err = refused(gw, signed_connect(identity, signed_at=TS), now_ms=TS + 120_001)
    assert err.details == {"code": "DEVICE_AUTH_SIGNATURE_EXPIRED", "reason": "device-signature-stale"}


def test_tampered_signature_bytes(gw: Gateway, identity: DeviceIdentity) -> None:
    params = signed_connect(identity, signed_at=TS)
    signature = params["device"]["signature"]
    params["device"]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert refused(gw, params).details == {"code": "DEVICE_AUTH_SIGNATURE_INVALID", "reason": "device-signature"}


def test_device_id_must_match_the_key(gw: Gateway, identity: DeviceIdentity) -> None:
    params = signed_connect(identity, signed_at=TS)
    params["device"]["id"] = DeviceIdentity.generate().device_id
    err = refused(gw, params)
    assert (err.message, err.details) == (
        "device identity mismatch", {"code": "DEVICE_AUTH_DEVICE_ID_MISMATCH", "reason": "device-id-mismatch"})
    params["device"]["publicKey"] = "not base64 !"
    assert refused(gw, params).details["code"] == "DEVICE_AUTH_DEVICE_ID_MISMATCH"  # type: ignore[index]


def test_another_devices_key_cannot_be_borrowed(gw: Gateway, identity: DeviceIdentity) -> None:
    thief = DeviceIdentity.generate()
    params = signed_connect(thief, signed_at=TS)
    params["device"].update(id=identity.device_id, publicKey=identity.public_key_b64url)
    assert refused(gw, params).details["code"] == "DEVICE_AUTH_SIGNATURE_INVALID"  # type: ignore[index]


# --- credentials ------------------------------------------------------------------------------


def test_no_credentials_and_no_device(gw: Gateway) -> None:
    err = refused(gw, no_device(auth={}))
    assert err.to_shape() == {"code": "NOT_PAIRED", "message": "device identity required",
                              "details": {"code": "DEVICE_IDENTITY_REQUIRED"}}
    assert err.close_code == CLOSE_POLICY


def test_node_role_needs_a_device(gw: Gateway) -> None:
    assert refused(gw, no_device(role="node")).details == {"code": "DEVICE_IDENTITY_REQUIRED"}


@pytest.mark.parametrize(
    ("client", "remote", "message"),
    [
        (("cli", "cli"), LOCAL, "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or "
                                "pair the device)"),
        (("cli", "cli"), REMOTE, "unauthorized: gateway token mismatch (set gateway.remote.token to match "
                                 "gateway.auth.token)"),
        (("openclaw-control-ui", "webchat"), REMOTE, "unauthorized: gateway token mismatch (open the dashboard URL "
                                                     "and paste the token in Control UI settings)"),
        (("gateway-client", "backend"), LOCAL, "unauthorized: gateway token mismatch (provide gateway auth token)"),
    ],
)
def test_token_mismatch_wording(gw: Gateway, client: tuple[str, str], remote: str, message: str) -> None:
    err = refused(gw, no_device(*client, auth={"token": "wrong"}), remote)
    assert err.message == message
    assert err.details == {"code": "AUTH_TOKEN_MISMATCH", "authReason": "token_mismatch",
                           "canRetryWithDeviceToken": False, "recommendedNextStep": "update_auth_credentials"}


def test_password_mode(gw: Gateway) -> None:
    gw.auth = AuthConfig("password", password="s3cret-pass")
    assert ok(gw, no_device(auth={"password": "s3cret-pass"})).method == "password"
    err = refused(gw, no_device(auth={"password": "nope"}))
    assert err.message == "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)"
    assert err.details["code"] == "AUTH_PASSWORD_MISMATCH"  # type: ignore[index]
    err = refused(gw, no_device(auth={"token": "test-token-123"}))
    assert err.details["code"] == "AUTH_PASSWORD_MISSING"  # type: ignore[index]


def test_token_not_configured(gw: Gateway) -> None:
    gw.auth = AuthConfig("token", None)
    err = refused(gw, no_device())
    assert err.message == "unauthorized: gateway token not configured on gateway (set gateway.auth.token)"
    assert err.details["code"] == "AUTH_TOKEN_NOT_CONFIGURED"  # type: ignore[index]


def test_protocol3_wording(gw: Gateway) -> None:
    gw.protocol = 3
    err = refused(gw, no_device(auth={"token": "wrong"}))
    assert err.to_shape() == {"code": "INVALID_REQUEST", "message": "unauthorized: gateway token mismatch (set "
                              "gateway.remote.token to match gateway.auth.token)"}


def test_auth_mode_none(gw: Gateway) -> None:
    gw.auth = AuthConfig("none")
    assert ok(gw, no_device(auth={})).scopes == ALL_SCOPES
    result = ok(gw, no_device("gateway-client", "ui", auth={}))
    assert (result.method, result.scopes) == ("none", [])


# --- scopes without a device ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "remote", "scopes"),
    [(("cli", "cli"), LOCAL, ALL_SCOPES), (("cli", "cli"), REMOTE, []), (("cli", "ui"), LOCAL, []),
     (("gateway-client", "cli"), LOCAL, []), (("openclaw-control-ui", "webchat"), LOCAL, [])],
)
def test_shared_token_scopes(gw: Gateway, client: tuple[str, str], remote: str, scopes: list[str]) -> None:
    result = ok(gw, no_device(*client), remote)
    assert (result.method, result.scopes, result.device_id) == ("token", scopes, None)


# --- device tokens ----------------------------------------------------------------------------


def test_device_token_is_issued_and_accepted_later(gw: Gateway, identity: DeviceIdentity) -> None:
    first = ok(gw, signed_connect(identity, signed_at=TS))
    assert first.device_token and first.auto_approved
    token = first.device_token
    assert redact(f"x {token} y") == "x *** y"  # registered as a secret
    again = ok(gw, signed_connect(identity, signed_at=TS, token=token))
    assert (again.method, again.device_token, again.auto_approved) == ("device-token", token, False)
    explicit = ok(gw, signed_connect(identity, signed_at=TS, token=None, auth={"deviceToken": token}),
                  remote=REMOTE)
    assert explicit.method == "device-token"


def test_wrong_device_tokens(gw: Gateway, identity: DeviceIdentity) -> None:
    ok(gw, signed_connect(identity, signed_at=TS))
    err = refused(gw, signed_connect(identity, signed_at=TS, token=None, auth={"deviceToken": "forged-token"}))
    assert err.message == "unauthorized: device token mismatch (rotate/reissue device token)"
    assert err.details["code"] == "AUTH_DEVICE_TOKEN_MISMATCH"  # type: ignore[index]
    err = refused(gw, signed_connect(identity, signed_at=TS, token="forged-token"))
    assert err.details == {"code": "AUTH_TOKEN_MISMATCH", "authReason": "token_mismatch",
                           "canRetryWithDeviceToken": True, "recommendedNextStep": "retry_with_device_token"}


def test_a_device_token_only_works_for_its_device(gw: Gateway, identity: DeviceIdentity) -> None:
    token = ok(gw, signed_connect(identity, signed_at=TS)).device_token
    other = DeviceIdentity.generate()
    assert refused(gw, signed_connect(other, signed_at=TS, token=token)).details["code"] == "AUTH_TOKEN_MISMATCH"  # type: ignore[index]


def test_revoked_device_token(gw: Gateway, identity: DeviceIdentity) -> None:
    token = ok(gw, signed_connect(identity, signed_at=TS)).device_token
    assert gw.pairing.revoke_token(identity.device_id)
    refused(gw, signed_connect(identity, signed_at=TS, token=token))
    renewed = ok(gw, signed_connect(identity, signed_at=TS))  # the gateway token still works
    assert renewed.device_token and renewed.device_token != token


# --- pairing ----------------------------------------------------------------------------------


def test_remote_pairing_flow(gw: Gateway, identity: DeviceIdentity) -> None:
    first = refused(gw, signed_connect(identity, signed_at=TS), REMOTE)
    second = refused(gw, signed_connect(identity, signed_at=TS), REMOTE)
    assert first.details is not None and second.details is not None
    request_id = first.details["requestId"]
    assert second.details["requestId"] == request_id  # one pending request per device
    assert [name for name, _ in gw.events] == ["device.pair.requested"]
    assert first.details["requestedScopes"] == ALL_SCOPES and first.details["deviceId"] == identity.device_id
    gw.pairing.reject(request_id)
    third = refused(gw, signed_connect(identity, signed_at=TS), REMOTE)
    assert third.details is not None and third.details["requestId"] != request_id
    gw.pairing.approve(third.details["requestId"])
    result = ok(gw, signed_connect(identity, signed_at=TS), REMOTE)
    assert result.device_token and result.scopes == ALL_SCOPES


def test_protocol3_pairing_required(gw: Gateway, identity: DeviceIdentity) -> None:
    gw.protocol = 3
    err = refused(gw, signed_connect(identity, signed_at=TS), REMOTE)
    assert err.message == "pairing required"
    assert err.details is not None and set(err.details) == {"code", "requestId", "reason"}
    assert err.details["reason"] == "not-paired"


def test_scope_upgrade(gw: Gateway, identity: DeviceIdentity) -> None:
    request = refused(gw, signed_connect(identity, signed_at=TS, scopes=["operator.read"]), REMOTE)
    gw.pairing.approve(request.details["requestId"])  # type: ignore[index]
    assert ok(gw, signed_connect(identity, signed_at=TS, scopes=["operator.read"]), REMOTE).scopes == ["operator.read"]
    err = refused(gw, signed_connect(identity, signed_at=TS, scopes=["operator.read", "operator.admin"]), REMOTE)
    assert err.message == "pairing required: device is asking for more scopes than currently approved"
    assert err.details is not None
    assert (err.details["reason"], err.details["approvedScopes"]) == ("scope-upgrade", ["operator.read"])
    # on loopback the upgrade is approved silently
    result = ok(gw, signed_connect(identity, signed_at=TS, scopes=["operator.read", "operator.admin"]))
    assert result.auto_approved and result.scopes == ["operator.read", "operator.admin"]


def test_platform_is_pinned(gw: Gateway, identity: DeviceIdentity) -> None:
    ok(gw, signed_connect(identity, signed_at=TS, platform="linux"))
    err = refused(gw, signed_connect(identity, signed_at=TS, platform="windows"), REMOTE)
    assert err.details is not None and err.details["reason"] == "metadata-upgrade"


def test_token_secrets_stay_out_of_logs_and_lists(gw: Gateway, identity: DeviceIdentity,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="molt_desktop")
    token = ok(gw, signed_connect(identity, signed_at=TS)).device_token
    assert token
    refused(gw, no_device(auth={"token": "wrong-guess-123"}))
    refused(gw, signed_connect(DeviceIdentity.generate(), signed_at=TS), REMOTE)
    listing = json.dumps(gw.pairing.list())
    assert token not in listing and "test-token-123" not in listing
    assert token not in caplog.text and "test-token-123" not in caplog.text and "wrong-guess-123" not in caplog.text
    assert "connect from 127.0.0.1 rejected: token_mismatch" in caplog.text


# --- rate limiting ----------------------------------------------------------------------------


def test_repeated_failures_are_rate_limited(gw: Gateway) -> None:
    for _ in range(10):
        assert refused(gw, no_device(auth={"token": "guess"}), REMOTE).details["code"] == "AUTH_TOKEN_MISMATCH"  # type: ignore[index]
    err = refused(gw, no_device(), REMOTE)  # even the right token is refused now
    assert err.message == "unauthorized: too many failed authentication attempts (retry later)"
    assert err.retryable and err.retry_after_ms == 300_000
    assert err.details == {"code": "AUTH_RATE_LIMITED", "authReason": "rate_limited",
                           "canRetryWithDeviceToken": False, "recommendedNextStep": "wait_then_retry"}
    shape = err.to_shape()
    assert shape["retryable"] is True and shape["retryAfterMs"] == 300_000
    assert ok(gw, no_device(), "192.0.2.99").method == "token"  # other addresses are not affected
    gw.clock[0] += 300
    assert ok(gw, no_device(), REMOTE).method == "token"


def test_loopback_is_rate_limited_too_and_success_resets(gw: Gateway) -> None:
    for _ in range(9):
        refused(gw, no_device(auth={"token": "guess"}))
    ok(gw, no_device())
    for _ in range(9):
        refused(gw, no_device(auth={"token": "guess"}))
    ok(gw, no_device())
    for _ in range(10):
        refused(gw, no_device(auth={"token": "guess"}))
    assert refused(gw, no_device()).details["code"] == "AUTH_RATE_LIMITED"  # type: ignore[index]


def test_protocol3_rate_limit_keeps_its_details(gw: Gateway) -> None:
    gw.protocol = 3
    for _ in range(10):
        assert refused(gw, no_device(auth={"token": "guess"})).details is None
    err = refused(gw, no_device())
    assert err.retryable and err.details is not None and err.details["code"] == "AUTH_RATE_LIMITED"


def test_a_failing_broadcast_does_not_fail_the_connect(gw: Gateway, identity: DeviceIdentity) -> None:
    def broken(name: str, payload: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    result = authenticate_connect(
        validate_connect_params(signed_connect(identity, signed_at=TS)), auth=gw.auth, challenge_nonce=NONCE,
        challenge_ts=TS, remote_addr=LOCAL, is_loopback=True, pairing=gw.pairing, limiter=gw.limiter,
        on_event=broken,
    )
    assert result.auto_approved and result.device_token
