"""The Test of Settings > Remote gateways: connect to a remote with the real client, call `health`.

`check_remote(url, token=..., password=..., tls_fingerprint=..., state_dir=...)` connects the
way the endpoint pool will (client/connection.py's GatewayConnection, this install's device
identity, the pinned certificate fingerprint) and returns a `RemoteCheck`: "ok" with the
`health` round trip and the server's version from hello, or what went wrong, sorted into what
the user can do about it: "auth" (wrong or missing token), "pairing" (PAIRING_REQUIRED: the
request id and the commands that approve it on the server), "tls" (the certificate does not
match the pin: both fingerprints), "unreachable" or "error". The client's typed errors decide;
an error frame's `details.code` covers gateways whose errors the client could not type.

Not here: showing the outcome (settings_remote_test.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from molt_desktop.client.connection import (ClientOptions, GatewayAuthError, GatewayCallError, GatewayConnection,
                                            GatewayPairingRequired, GatewayTlsMismatch, GatewayUnreachable)
from molt_desktop.client.identity import DeviceTokenStore, load_device_identity
from molt_desktop.logs import get_logger

log = get_logger("ui")

OUTCOMES = ("ok", "auth", "pairing", "tls", "unreachable", "error")


@dataclass
class RemoteCheck:
    outcome: str  # one of OUTCOMES
    detail: str = ""  # the gateway's (or the network's) own words
    code: str = ""  # details.code of an error frame (AUTH_TOKEN_MISMATCH, PAIRING_REQUIRED, ...)
    latency_ms: int | None = None  # the `health` round trip
    version: str = ""  # the server's version, from hello
    protocol: int = 0
    request_id: str = ""  # pairing: the request to approve on the server
    device_id: str = ""
    commands: list[str] = field(default_factory=list)  # pairing: the exact commands that approve it
    expected: str = ""  # tls: the pinned fingerprint
    actual: str = ""  # tls: the server certificate's fingerprint

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def approve_commands(request_id: str) -> list[str]:
    """The commands that approve a pairing request on the server (an OpenClaw or a molt-desktop gateway)."""
    return [f"openclaw devices approve {request_id}", f"molt-desktop devices approve {request_id}"]


def client_options(url: str, *, token: str | None, password: str | None, tls_fingerprint: str | None,
                   device: Any, device_tokens: Any = None, timeout: float = 10.0) -> ClientOptions:
    """The options the pool uses for a remote (pool_endpoints.remote_options), from the editor's values."""
    return ClientOptions(url=url, token=token or None, password=password or None, device=device,
                         client_id="gateway-client", mode="ui", tls_fingerprint=tls_fingerprint or None,
                         device_tokens=device_tokens, connect_timeout=timeout)


async def check_remote(url: str, *, token: str | None = None, password: str | None = None,
                       tls_fingerprint: str | None = None, state_dir: Path, timeout: float = 10.0) -> RemoteCheck:
    """Connect, call `health`, close; never raises for what a remote can answer."""
    # The keyring and the identity file block: not on the GUI thread.
    device = await asyncio.to_thread(load_device_identity, state_dir)
    tokens = DeviceTokenStore(state_dir)
    options = client_options(url, token=token, password=password, tls_fingerprint=tls_fingerprint, device=device,
                             device_tokens=tokens, timeout=timeout)
    conn = GatewayConnection(options)
    try:
        hello = await asyncio.wait_for(conn.connect(), timeout + 2)
        started = time.monotonic()
        await conn.call("health", {}, timeout=timeout)
        latency = round((time.monotonic() - started) * 1000)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        result = classify(exc)
        log.info("remote test of %s: %s (%s)", url, result.outcome, result.code or type(exc).__name__)
        return result
    finally:
        await conn.close()
    server = hello.get("server") if isinstance(hello.get("server"), dict) else {}
    log.info("remote test of %s: ok in %d ms", url, latency)
    return RemoteCheck("ok", latency_ms=latency, version=str(server.get("version") or ""),
                       protocol=int(hello.get("protocol") or 0))


def classify(exc: BaseException) -> RemoteCheck:
    """A failed connect or call as the Test shows it."""
    details = getattr(exc, "details", None)
    details = details if isinstance(details, dict) else {}
    code = str(details.get("code") or "")
    text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    if isinstance(exc, GatewayPairingRequired) or code == "PAIRING_REQUIRED":
        request_id = str(getattr(exc, "request_id", None) or details.get("requestId") or "")
        commands = getattr(exc, "approve_commands", None)
        return RemoteCheck("pairing", text, code or "PAIRING_REQUIRED", request_id=request_id,
                           device_id=str(getattr(exc, "device_id", None) or details.get("deviceId") or ""),
                           commands=list(commands) if commands else approve_commands(request_id))
    if isinstance(exc, GatewayTlsMismatch):
        return RemoteCheck("tls", text, "TLS_FINGERPRINT_MISMATCH", expected=exc.expected, actual=exc.actual)
    if isinstance(exc, GatewayCallError):
        # Protocol-3 gateways send a bare "unauthorized: …" message without details.
        if isinstance(exc, GatewayAuthError) or code.startswith(("AUTH_", "DEVICE_AUTH_")) or (
                not code and "unauthorized" in text.lower()):
            return RemoteCheck("auth", text, code)
        return RemoteCheck("error", text, code or str(exc.code))
    if isinstance(exc, (GatewayUnreachable, asyncio.TimeoutError, OSError)):
        return RemoteCheck("unreachable", str(exc) or type(exc).__name__)
    return RemoteCheck("error", text)


__all__ = ["OUTCOMES", "RemoteCheck", "approve_commands", "check_remote", "classify", "client_options"]
