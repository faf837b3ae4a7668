"""Who may connect: the checks of a `connect` request, exactly as the real gateways answer them.

`authenticate_connect` runs, in OpenClaw's order: protocol negotiation, rate limit, shared
credentials (token/password, constant-time), the missing-device rules, the device proof
(id, age <= 120 s, nonce, v3/v2 signature), device-token fallback, pairing (silent on loopback,
`PAIRING_REQUIRED` otherwise), and finally the device token for a paired device. Failures are
`GatewayError`s carrying the recorded codes, messages, details and close codes: protocol-4
wording (OpenClaw 2026.9.6) or protocol-3 wording (2026.1.29), see PROTOCOL.md section 2.
Here: `AuthConfig`, `AuthResult`, `authenticate_connect`, `hello_auth`.
Not here: the pairing files (pairing.py), the failure counter (ratelimit.py), the WebSocket.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from molt_desktop.clock import now_ms as clock_now_ms
from molt_desktop.gateway.pairing import DeviceClaim, PairingStore, scopes_allow
from molt_desktop.gateway.ratelimit import AuthRateLimiter
from molt_desktop.logs import get_logger
from molt_desktop.protocol.device import (
    device_id_from_public_key,
    normalize_device_metadata,
    normalize_public_key,
    signature_version,
)
from molt_desktop.protocol.frames import CLOSE_POLICY, INVALID_REQUEST, NOT_PAIRED, GatewayError
from molt_desktop.protocol.methods import PROTOCOL_MAX, ConnectParams, negotiate_protocol

log = get_logger("auth")

DEVICE_SIGNATURE_SKEW_MS = 2 * 60 * 1000
CONTROL_UI_IDS = frozenset({"openclaw-control-ui", "webchat-ui"})

AuthMode = Literal["token", "password", "none"]
EventSink = Callable[[str, dict[str, Any]], None]

_DETAIL_CODES = {
    "token_missing": "AUTH_TOKEN_MISSING",
    "token_mismatch": "AUTH_TOKEN_MISMATCH",
    "token_missing_config": "AUTH_TOKEN_NOT_CONFIGURED",
    "password_missing": "AUTH_PASSWORD_MISSING",
    "password_mismatch": "AUTH_PASSWORD_MISMATCH",
    "password_missing_config": "AUTH_PASSWORD_NOT_CONFIGURED",
    "rate_limited": "AUTH_RATE_LIMITED",
    "device_token_mismatch": "AUTH_DEVICE_TOKEN_MISMATCH",
}
_NEXT_STEPS = {
    "token_missing": "update_auth_configuration",
    "token_missing_config": "update_auth_configuration",
    "password_missing": "update_auth_configuration",
    "password_missing_config": "update_auth_configuration",
    "token_mismatch": "update_auth_credentials",
    "password_mismatch": "update_auth_credentials",
    "device_token_mismatch": "update_auth_credentials",
    "rate_limited": "wait_then_retry",
}
# Failures that are guesses at a secret and count against the address.
_COUNTED = frozenset({"token_mismatch", "password_mismatch", "device_token_mismatch"})

_DEVICE_PROOF_CODES = {
    "device-id-mismatch": "DEVICE_AUTH_DEVICE_ID_MISMATCH",
    "device-signature-stale": "DEVICE_AUTH_SIGNATURE_EXPIRED",
    "device-nonce-missing": "DEVICE_AUTH_NONCE_REQUIRED",
    "device-nonce-mismatch": "DEVICE_AUTH_NONCE_MISMATCH",
    "device-signature": "DEVICE_AUTH_SIGNATURE_INVALID",
    "device-public-key": "DEVICE_AUTH_PUBLIC_KEY_INVALID",
}
_PAIRING_REASONS = {
    "not-paired": ("device is not approved yet", "Approve this device from the pending pairing requests."),
    "role-upgrade": (
        "device is asking for a higher role than currently approved",
        "Review the requested role upgrade, then approve the pending request.",
    ),
    "scope-upgrade": (
        "device is asking for more scopes than currently approved",
        "Review the requested scopes, then approve the pending upgrade.",
    ),
    "metadata-upgrade": (
        "device identity changed and must be re-approved",
        "Review the refreshed device details, then approve the pending request.",
    ),
}


@dataclass(frozen=True)
class AuthConfig:
    """`gateway.auth` of the config, secrets already resolved."""

    mode: AuthMode = "token"
    token: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class AuthResult:
    """A connection that may proceed.

    `scopes` are the granted scopes in the order asked for; `device_token_scopes` the (sorted)
    scopes recorded with the issued device token (protocol-3 hello-ok reports those).
    """

    method: str  # "token" | "password" | "device-token" | "none"
    role: str
    scopes: list[str]
    protocol: int = PROTOCOL_MAX
    device_id: str | None = None
    device_token: str | None = None
    issued_at_ms: int | None = None
    device_token_scopes: list[str] = field(default_factory=list)
    auto_approved: bool = False


def hello_auth(result: AuthResult) -> dict[str, Any] | None:
    """The `auth` object of hello-ok: always for protocol 4, only with a device token for 3."""
    if result.protocol < 4:
        if not result.device_token:
            return None
        return {
            "deviceToken": result.device_token,
            "role": result.role,
            "scopes": list(result.device_token_scopes),
            "issuedAtMs": result.issued_at_ms or 0,
        }
    auth: dict[str, Any] = {"method": result.method, "role": result.role, "scopes": list(result.scopes)}
    if result.device_token:
        auth["deviceToken"] = result.device_token
        auth["issuedAtMs"] = result.issued_at_ms or 0
    return auth


# ---------------------------------------------------------------------------------------------
# failure messages


def _is_cli(client: dict[str, Any]) -> bool:
    return client.get("mode") == "cli"


def _is_ui(client: dict[str, Any]) -> bool:
    return client.get("id") in CONTROL_UI_IDS or client.get("mode") == "webchat" or client.get("id") == "webchat"


def _failure_message(reason: str, *, protocol: int, client: dict[str, Any], is_local: bool) -> str:
    """OpenClaw's `formatGatewayAuthFailureMessage` (2026.9.6; 2026.1.29 for protocol 3)."""
    cli, ui = _is_cli(client), _is_ui(client)
    local_cli = cli and is_local and protocol >= 4
    if cli:
        token_hint = (
            "use this gateway's gateway.auth.token or pair the device"
            if local_cli
            else "set gateway.remote.token to match gateway.auth.token"
        )
        password_hint = (
            "use this gateway's gateway.auth.password"
            if local_cli
            else "set gateway.remote.password to match gateway.auth.password"
        )
    elif ui:
        token_hint = "open the dashboard URL and paste the token in Control UI settings"
        password_hint = "enter the password in Control UI settings"
    else:
        token_hint, password_hint = "provide gateway auth token", "provide gateway auth password"
    if reason == "token_missing" and ui and protocol >= 4:
        token_hint = "paste in Control UI settings or openclaw doctor --generate-gateway-token; restart"
    messages = {
        "token_missing": f"unauthorized: gateway token missing ({token_hint})",
        "token_mismatch": f"unauthorized: gateway token mismatch ({token_hint})",
        "token_missing_config": "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
        "password_missing": f"unauthorized: gateway password missing ({password_hint})",
        "password_mismatch": f"unauthorized: gateway password mismatch ({password_hint})",
        "password_missing_config": (
            "unauthorized: gateway password not configured on gateway (set gateway.auth.password)"
        ),
        "rate_limited": "unauthorized: too many failed authentication attempts (retry later)",
        "device_token_mismatch": "unauthorized: device token mismatch (rotate/reissue device token)",
    }
    return messages.get(reason, "unauthorized")


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _provided_kind(auth: dict[str, Any]) -> str:
    for key, kind in (("password", "password"), ("token", "token"), ("deviceToken", "device-token")):
        if _clean(auth.get(key)):
            return kind
    return "none"


def _unauthorized(
    reason: str,
    params: ConnectParams,
    *,
    protocol: int,
    is_local: bool,
    has_device: bool,
    retry_after_ms: int | None = None,
) -> GatewayError:
    message = _failure_message(reason, protocol=protocol, client=params.client, is_local=is_local)
    rate_limited = reason == "rate_limited"
    details: dict[str, Any] | None = None
    if protocol >= 4 or rate_limited:
        # The protocol-3 gateway sent bare messages; its rate limiting did not exist.
        can_retry = (
            reason == "token_mismatch"
            and has_device
            and _provided_kind(params.auth) == "token"
            and not params.auth.get("deviceToken")
        )
        details = {
            "code": _DETAIL_CODES.get(reason, "AUTH_UNAUTHORIZED"),
            "authReason": reason,
            "canRetryWithDeviceToken": can_retry,
            "recommendedNextStep": "retry_with_device_token"
            if can_retry
            else _NEXT_STEPS.get(reason, "review_auth_configuration"),
        }
    return GatewayError(
        INVALID_REQUEST,
        message,
        details=details,
        retryable=rate_limited,
        retry_after_ms=retry_after_ms if rate_limited else None,
        close_code=CLOSE_POLICY,
    )


def _device_proof_error(reason: str, message: str) -> GatewayError:
    return GatewayError(
        INVALID_REQUEST,
        message,
        details={"code": _DEVICE_PROOF_CODES[reason], "reason": reason},
        close_code=CLOSE_POLICY,
    )


# ---------------------------------------------------------------------------------------------
# checks


def _secret_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _shared_auth(config: AuthConfig, auth: dict[str, Any]) -> tuple[bool, str, str | None]:
    """(ok, method, failure reason) of the shared token/password."""
    if config.mode == "none":
        return True, "none", None
    key = "password" if config.mode == "password" else "token"
    given = _clean(auth.get(key))
    expected = config.password if config.mode == "password" else config.token
    if not expected:
        return False, key, f"{key}_missing_config"
    if not given:
        return False, key, f"{key}_missing"
    if _secret_equal(given, expected):
        return True, key, None
    return False, key, f"{key}_mismatch"


def _verify_device_proof(
    params: ConnectParams, device: dict[str, Any], *, role: str, challenge_nonce: str, now_ms: int
) -> str:
    """Check id, age, nonce and signature of `connect.device`; returns the canonical public key."""
    public_key = device["publicKey"]
    try:
        derived = device_id_from_public_key(public_key)
    except ValueError:
        derived = None
    if derived is None or derived != device["id"]:
        raise _device_proof_error("device-id-mismatch", "device identity mismatch")
    signed_at = device["signedAt"]
    if not isinstance(signed_at, int) or abs(now_ms - signed_at) > DEVICE_SIGNATURE_SKEW_MS:
        raise _device_proof_error("device-signature-stale", "device signature expired")
    nonce = device["nonce"].strip()
    if not nonce:
        raise _device_proof_error("device-nonce-missing", "device nonce required")
    if not hmac.compare_digest(nonce.encode("utf-8", "surrogatepass"), challenge_nonce.encode("utf-8")):
        raise _device_proof_error("device-nonce-mismatch", "device nonce mismatch")
    auth = params.auth
    token = auth.get("token") or auth.get("deviceToken") or auth.get("bootstrapToken") or None
    version = signature_version(
        public_key=public_key,
        signature=device["signature"],
        device_id=device["id"],
        client_id=params.client_id,
        client_mode=params.client_mode,
        role=role,
        scopes=params.scopes,
        signed_at=signed_at,
        token=token,
        nonce=nonce,
        platform=params.client.get("platform"),
        device_family=params.client.get("deviceFamily"),
    )
    if version is None:
        raise _device_proof_error("device-signature", "device signature invalid")
    normalized = normalize_public_key(public_key)
    if normalized is None:
        raise _device_proof_error("device-public-key", "device public key invalid")
    return normalized


def _pairing_reason(params: ConnectParams, paired: dict[str, Any] | None, public_key: str, role: str) -> str | None:
    """Why this device needs (re-)approval, or None when its pairing covers this connection."""
    if paired is None or paired.get("publicKey") != public_key:
        return "not-paired"
    # platform and device family are pinned at approval: a change needs a new approval
    for key in ("platform", "deviceFamily"):
        pinned = normalize_device_metadata(paired.get(key))
        if pinned and pinned != normalize_device_metadata(params.client.get(key)):
            return "metadata-upgrade"
    roles = paired.get("roles") if isinstance(paired.get("roles"), list) else [paired.get("role")]
    if role not in (roles or []):
        return "role-upgrade"
    approved = paired.get("approvedScopes") if isinstance(paired.get("approvedScopes"), list) else paired.get("scopes")
    if params.scopes and not scopes_allow(params.scopes, [s for s in approved or [] if isinstance(s, str)]):
        return "scope-upgrade"
    return None


def _pairing_required(
    reason: str, request: dict[str, Any], params: ConnectParams, paired: dict[str, Any] | None, *, protocol: int
) -> GatewayError:
    if protocol < 4:
        return GatewayError(
            NOT_PAIRED,
            "pairing required",
            details={"code": "PAIRING_REQUIRED", "requestId": request["requestId"], "reason": reason},
            close_code=CLOSE_POLICY,
        )
    requirement, hint = _PAIRING_REASONS[reason]
    details: dict[str, Any] = {
        "code": "PAIRING_REQUIRED",
        "reason": reason,
        "requestId": request["requestId"],
        "remediationHint": hint,
        "deviceId": request["deviceId"],
        "requestedRole": params.role,
        "requestedScopes": list(params.scopes),
    }
    if reason != "not-paired" and paired is not None:
        details["approvedRoles"] = [r for r in paired.get("roles") or [] if isinstance(r, str)]
        details["approvedScopes"] = [s for s in paired.get("approvedScopes") or [] if isinstance(s, str)]
    return GatewayError(NOT_PAIRED, f"pairing required: {requirement}", details=details, close_code=CLOSE_POLICY)


def _emit(sink: EventSink | None, event: str, payload: dict[str, Any]) -> None:
    # A failing broadcast must not turn a successful pairing into a failed connect.
    if sink is None:
        return
    try:
        sink(event, payload)
    except Exception:
        log.exception("could not broadcast %s", event)


def authenticate_connect(
    params: ConnectParams,
    *,
    auth: AuthConfig,
    challenge_nonce: str,
    challenge_ts: int,
    remote_addr: str | None,
    is_loopback: bool,
    pairing: PairingStore,
    limiter: AuthRateLimiter,
    protocol: int = PROTOCOL_MAX,
    now_ms: int | None = None,
    on_event: EventSink | None = None,
) -> AuthResult:
    """Decide whether a checked `connect` may proceed; raise `GatewayError` (with close code) if not.

    `protocol` is the highest version this gateway offers (3 answers like OpenClaw 2026.1.29).
    Signature age is measured against `now_ms`, by default the challenge time (the connect
    arrives within the 10 s handshake timeout). `on_event` receives `device.pair.requested` /
    `device.pair.resolved` payloads for broadcasting.
    """
    chosen = negotiate_protocol(params.min_protocol, params.max_protocol, server_max=protocol)
    role = params.role
    device = params.device
    has_device = device is not None
    client = f"{params.client_id}/{params.client_mode}"

    def fail(reason: str, retry_after_ms: int | None = None) -> GatewayError:
        if reason in _COUNTED:
            limiter.record_failure(remote_addr)
        log.warning("connect from %s rejected: %s (client %s)", remote_addr or "?", reason, client)
        return _unauthorized(
            reason, params, protocol=chosen, is_local=is_loopback, has_device=has_device, retry_after_ms=retry_after_ms
        )

    credentials_given = _provided_kind(params.auth) != "none"
    if credentials_given:
        decision = limiter.check(remote_addr)
        if not decision.allowed:
            raise fail("rate_limited", decision.retry_after_ms)

    shared_ok, method, shared_reason = _shared_auth(auth, params.auth)

    if device is None:
        if role == "operator" and shared_ok:
            # Without a device there is nothing to bind scopes to: only the local CLI keeps them.
            local_cli = params.client_id == "cli" and params.client_mode == "cli" and is_loopback
            if credentials_given:
                limiter.reset(remote_addr)
            granted = list(params.scopes) if local_cli else []
            return AuthResult(method=method, role=role, scopes=granted, protocol=chosen)
        has_shared = bool(_clean(params.auth.get("token")) or _clean(params.auth.get("password")))
        if has_shared and shared_reason is not None:
            raise fail(shared_reason)
        log.warning("connect from %s rejected: device identity required (client %s)", remote_addr or "?", client)
        raise GatewayError(
            NOT_PAIRED,
            "device identity required",
            details={"code": "DEVICE_IDENTITY_REQUIRED"},
            close_code=CLOSE_POLICY,
        )

    reference_ms = now_ms if now_ms is not None else challenge_ts
    public_key = _verify_device_proof(params, device, role=role, challenge_nonce=challenge_nonce, now_ms=reference_ms)
    device_id: str = device["id"]

    if not shared_ok:
        # A device may present its device token in auth.deviceToken or (older clients) auth.token.
        explicit = _clean(params.auth.get("deviceToken"))
        candidate = explicit or _clean(params.auth.get("token"))
        if candidate and pairing.check_device_token(candidate, device_id=device_id, role=role, scopes=params.scopes):
            method = "device-token"
        elif candidate:
            raise fail("device_token_mismatch" if explicit else shared_reason or "device_token_mismatch")
        else:
            raise fail(shared_reason or "token_missing")
    if credentials_given:
        limiter.reset(remote_addr)

    claim = DeviceClaim(
        device_id=device_id,
        public_key=public_key,
        display_name=params.client.get("displayName"),
        platform=params.client.get("platform"),
        device_family=params.client.get("deviceFamily"),
        client_id=params.client_id,
        client_mode=params.client_mode,
    )
    paired = pairing.get_paired(device_id)
    reason = _pairing_reason(params, paired, public_key, role)
    auto_approved = False
    if reason is not None:
        remote_ip = None if is_loopback else remote_addr
        request, created = pairing.open_request(claim, params.scopes, remote_ip, role=role, silent=is_loopback)
        if is_loopback:
            pairing.approve(request["requestId"])
            auto_approved = True
            log.info("device %s paired automatically (local connection, %s)", device_id, reason)
            _emit(on_event, "device.pair.resolved", {"requestId": request["requestId"], "deviceId": device_id,
                                                     "decision": "approved", "ts": clock_now_ms()})
        else:
            if created:
                _emit(on_event, "device.pair.requested", request)
            log.warning("device %s from %s needs approval (%s): request %s", device_id, remote_addr or "?",
                        reason, request["requestId"])
            raise _pairing_required(reason, request, params, paired, protocol=chosen)

    issued = pairing.ensure_token(device_id, role, params.scopes)
    token, issued_at, token_scopes = issued if issued is not None else (None, None, [])
    return AuthResult(
        method=method,
        role=role,
        scopes=list(params.scopes),
        protocol=chosen,
        device_id=device_id,
        device_token=token,
        issued_at_ms=issued_at,
        device_token_scopes=token_scopes,
        auto_approved=auto_approved,
    )
