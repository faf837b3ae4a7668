"""Helpers for the connect-auth tests: recorded handshakes and freshly signed connect requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop.gateway.auth import AuthConfig, AuthResult, authenticate_connect
from molt_desktop.gateway.pairing import PairingStore
from molt_desktop.gateway.ratelimit import AuthRateLimiter
from molt_desktop.protocol.device import DeviceIdentity, build_auth_payload
from molt_desktop.protocol.methods import validate_connect_params

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"
LOCAL = "127.0.0.1"
REMOTE = "192.0.2.50"
ALL_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals"]


@dataclass
class Recorded:
    """One recorded handshake: what the client sent and what the real gateway answered."""

    challenge: dict[str, Any]
    params: dict[str, Any]
    response: dict[str, Any]
    close: dict[str, Any] | None

    @property
    def hello(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.response["payload"]
        return payload


def recorded(name: str) -> Recorded:
    records = [json.loads(line) for line in (CAPTURES / f"frames-{name}.jsonl").read_text().splitlines()]
    challenge = next(r["frame"]["payload"] for r in records if r["frame"].get("event") == "connect.challenge")
    request = next(r["frame"] for r in records if r["frame"].get("method") == "connect")
    response = next(r["frame"] for r in records if r["frame"].get("type") == "res" and r["frame"]["id"] == request["id"])
    close = next((r["frame"] for r in records if r["dir"] == "close"), None)
    return Recorded(challenge, request["params"], response, close)


@dataclass
class Gateway:
    """The auth side of a gateway: config, pairing store, limiter, and the events it broadcast."""

    devices_dir: Path
    auth: AuthConfig = field(default_factory=lambda: AuthConfig("token", "test-token-123"))
    protocol: int = 4
    clock: list[float] = field(default_factory=lambda: [1000.0])
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pairing = PairingStore(self.devices_dir, now_ms=lambda: int(self.clock[0] * 1000))
        self.limiter = AuthRateLimiter(clock=lambda: self.clock[0])

    def connect(
        self,
        params: dict[str, Any],
        *,
        nonce: str,
        ts: int,
        remote: str = LOCAL,
        now_ms: int | None = None,
    ) -> AuthResult:
        return authenticate_connect(
            validate_connect_params(params),
            auth=self.auth,
            challenge_nonce=nonce,
            challenge_ts=ts,
            remote_addr=remote,
            is_loopback=remote == LOCAL,
            pairing=self.pairing,
            limiter=self.limiter,
            protocol=self.protocol,
            now_ms=now_ms,
            on_event=lambda name, payload: self.events.append((name, payload)),
        )

    def replay(self, rec: Recorded, *, remote: str = LOCAL) -> AuthResult:
        return self.connect(rec.params, nonce=rec.challenge["nonce"], ts=rec.challenge["ts"], remote=remote)


def signed_connect(
    identity: DeviceIdentity,
    *,
    nonce: str = "nonce-1",
    signed_at: int = 1_700_000_000_000,
    token: str | None = "test-token-123",
    scopes: list[str] | None = None,
    client_id: str = "gateway-client",
    mode: str = "ui",
    platform: str = "linux",
    device_family: str | None = None,
    version: str = "v3",
    role: str = "operator",
    sign_overrides: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A connect request whose device block is signed by `identity` (overrides tamper with what
    was signed, so the request and the signature disagree)."""
    scopes = list(ALL_SCOPES if scopes is None else scopes)
    # the signed token is auth.token, else auth.deviceToken (as the gateway checks it)
    signed_token = token or (auth or {}).get("deviceToken")
    signed: dict[str, Any] = dict(
        device_id=identity.device_id, client_id=client_id, client_mode=mode, role=role, scopes=scopes,
        signed_at=signed_at, token=signed_token, nonce=nonce,
    )
    if version == "v3":
        signed.update(platform=platform, device_family=device_family)
    signed.update(sign_overrides or {})
    signature = identity.sign(build_auth_payload(version, **signed))  # type: ignore[arg-type]
    client: dict[str, Any] = {"id": client_id, "version": "1.0", "platform": platform, "mode": mode,
                              "displayName": "test device"}
    if device_family:
        client["deviceFamily"] = device_family
    return {
        "minProtocol": 3,
        "maxProtocol": 4,
        "client": client,
        "role": role,
        "scopes": scopes,
        "auth": auth if auth is not None else ({"token": token} if token else {}),
        "device": {"id": identity.device_id, "publicKey": identity.public_key_b64url, "signature": signature,
                   "signedAt": signed_at, "nonce": nonce},
    }
