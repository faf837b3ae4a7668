"""TLS for the client's links to gateways: the SSL context for a URL and the fingerprint pin.

A `wss://` gateway is trusted when the system CA store vouches for its certificate, or, when the
remote has a `tlsFingerprint`, when its certificate is exactly the pinned one (the usual case for
a self-signed `molt-desktop gateway` on the user's server). Fingerprints are the SHA-256 of the
certificate's DER bytes, written "sha256:<64 lowercase hex>"; pins are accepted with or without
the prefix, with or without colons, in any case.

The pin is checked right after the TLS and WebSocket handshakes, before anything is sent on the
socket (the credentials go in the first frame, after that check). Not here: the server side
(gateway/tls.py) and the connection itself (client/connection.py).
"""

from __future__ import annotations

import hashlib
import ssl
from typing import Any

from molt_desktop.client.errors import GatewayTlsMismatch

PREFIX = "sha256:"


class FingerprintError(ValueError):
    """A `tlsFingerprint` that is not a SHA-256 fingerprint."""


def normalize_fingerprint(value: str) -> str:
    """"sha256:AB:CD:..." / "abcd..." -> "sha256:abcd..." (64 lowercase hex); FingerprintError otherwise."""
    text = value.strip()
    if text.lower().startswith(PREFIX):
        text = text[len(PREFIX):]
    digits = text.replace(":", "").replace(" ", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise FingerprintError(f'not a SHA-256 fingerprint (expected "sha256:" and 64 hex digits): {value!r}')
    return PREFIX + digits


def certificate_fingerprint(der: bytes) -> str:
    """The "sha256:<hex>" fingerprint of a DER certificate."""
    return PREFIX + hashlib.sha256(der).hexdigest()


def is_secure_url(url: str) -> bool:
    return url.strip().lower().startswith(("wss://", "https://"))


def client_ssl_context(url: str, tls_fingerprint: str | None) -> ssl.SSLContext | None:
    """The SSL context for connecting to `url`: None for ws://, the system CA store for wss://.

    With a pin the chain and host name are not checked by the TLS layer: the certificate must
    instead be exactly the pinned one, which `check_pin` verifies after the handshake.
    """
    if not is_secure_url(url):
        return None
    if tls_fingerprint:
        normalize_fingerprint(tls_fingerprint)  # a malformed pin fails here, before any connection
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context()


def peer_fingerprint(ssl_object: Any) -> str | None:
    """The fingerprint of the certificate the server presented on an `ssl.SSLObject`, if any."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return certificate_fingerprint(der) if der else None


def check_pin(url: str, tls_fingerprint: str | None, actual: str | None) -> None:
    """Raise GatewayTlsMismatch unless the presented certificate is the pinned one (no pin: no check)."""
    if not tls_fingerprint:
        return
    expected = normalize_fingerprint(tls_fingerprint)
    if actual != expected:
        raise GatewayTlsMismatch(url, expected, actual or "none")


__all__ = [
    "FingerprintError",
    "certificate_fingerprint",
    "check_pin",
    "client_ssl_context",
    "is_secure_url",
    "normalize_fingerprint",
    "peer_fingerprint",
]
