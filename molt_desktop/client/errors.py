"""The errors a gateway client raises, and `gateway_error()`, which picks one for an error frame.

Every error frame a gateway sends (to `connect` or to any call) becomes a `GatewayCallError` or
one of its subclasses, chosen from `details.code` and, for protocol-3 gateways that send bare
messages, from the message text:

- `GatewayAuthError`: the credentials were refused (`AUTH_*`, `DEVICE_AUTH_*`,
  `DEVICE_IDENTITY_REQUIRED`, "unauthorized: ...").
- `GatewayPairingRequired`: this device waits for approval on the gateway's machine; carries the
  request id and the commands that approve it.
- `GatewayProtocolMismatch`: no protocol version both sides speak.
- `GatewayForbidden`: the connection lacks the scope a method needs.

`GatewayUnreachable` is the other family: no answer at all (refused, timed out, closed, a dead
link), with `GatewayTlsMismatch` for a server certificate that is not the pinned one.
molt_desktop.client.connection re-exports all of these; import them from there.
"""

from __future__ import annotations

from typing import Any

from molt_desktop.i18n import _

AUTH_DETAIL_CODES = frozenset({"DEVICE_IDENTITY_REQUIRED"})
AUTH_DETAIL_PREFIXES = ("AUTH_", "DEVICE_AUTH_")


class GatewayCallError(Exception):
    """The gateway answered a request (or the handshake) with an error frame."""

    def __init__(self, code: str, message: str, details: Any = None, retryable: bool = False,
                 retry_after_ms: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms

    @property
    def detail_code(self) -> str | None:
        """`details.code` (e.g. "AUTH_TOKEN_MISMATCH"), or None when the gateway sent none."""
        if isinstance(self.details, dict):
            code = self.details.get("code")
            return code if isinstance(code, str) else None
        return None


class GatewayAuthError(GatewayCallError):
    """The gateway refused the token, password, device token or device signature."""


class GatewayPairingRequired(GatewayCallError):
    """This device is not approved on the gateway yet; someone approves `request_id` there."""

    def __init__(self, code: str, message: str, details: Any = None, retryable: bool = False,
                 retry_after_ms: int | None = None) -> None:
        super().__init__(code, message, details, retryable, retry_after_ms)
        info = details if isinstance(details, dict) else {}
        self.request_id: str | None = _text(info.get("requestId"))
        self.device_id: str | None = _text(info.get("deviceId"))
        self.approve_commands: list[str] = []
        if self.request_id:
            self.approve_commands = [f"openclaw devices approve {self.request_id}",
                                     f"molt-desktop devices approve {self.request_id}"]
            hint = _("This device waits for approval on the gateway's computer. Approve it there with "
                     "`{openclaw}` or `{molt}`, then connect again.").format(
                openclaw=self.approve_commands[0], molt=self.approve_commands[1])
        else:
            hint = _("This device waits for approval on the gateway's computer: approve it there "
                     "(`openclaw devices list`, `molt-desktop devices list`), then connect again.")
        self.hint = hint
        self.args = (f"{code}: {message}. {hint}",)


class GatewayProtocolMismatch(GatewayCallError):
    """The gateway speaks no protocol version in this client's range."""

    @property
    def expected_protocol(self) -> int | None:
        value = self.details.get("expectedProtocol") if isinstance(self.details, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class GatewayForbidden(GatewayCallError):
    """The connection lacks the scope (operator.read, ...) the method needs."""

    @property
    def missing_scope(self) -> str | None:
        return _text(self.details.get("missingScope")) if isinstance(self.details, dict) else None


class GatewayUnreachable(Exception):
    """No gateway answered at the URL (refused, timed out, closed, a dead link)."""


class GatewayTlsMismatch(GatewayUnreachable):
    """The server's TLS certificate is not the pinned one; nothing was sent to it."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        super().__init__(_("The TLS certificate of {url} does not match the pinned fingerprint: expected {expected}, "
                           "the server presented {actual}. If the server's certificate was replaced on purpose, "
                           "update tlsFingerprint; otherwise something is intercepting the connection.").format(
            url=url, expected=expected, actual=actual))
        self.url = url
        self.expected = expected
        self.actual = actual


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_class(code: str, message: str, detail_code: str | None) -> type[GatewayCallError]:
    lowered = message.lower()
    if detail_code == "PAIRING_REQUIRED" or (code == "NOT_PAIRED" and lowered.startswith("pairing required")):
        return GatewayPairingRequired
    if detail_code == "PROTOCOL_MISMATCH" or lowered.startswith("protocol mismatch"):
        return GatewayProtocolMismatch
    if detail_code is not None and (detail_code in AUTH_DETAIL_CODES or detail_code.startswith(AUTH_DETAIL_PREFIXES)):
        return GatewayAuthError
    if lowered.startswith("unauthorized") or code == "UNAUTHORIZED":
        return GatewayAuthError  # protocol-3 gateways: bare "unauthorized: ..." without details
    if code == "FORBIDDEN" or detail_code == "MISSING_SCOPE":
        return GatewayForbidden
    return GatewayCallError


def gateway_error(error: Any, *, fallback_message: str = "request failed") -> GatewayCallError:
    """The typed exception for the `error` object of a `res` frame (whatever shape it arrives in)."""
    info = error if isinstance(error, dict) else {}
    code = _text(info.get("code")) or "UNAVAILABLE"
    message = _text(info.get("message")) or fallback_message
    details = info.get("details") if isinstance(info.get("details"), dict) else None
    retry_after = info.get("retryAfterMs")
    retry_after_ms = int(retry_after) if isinstance(retry_after, (int, float)) and not isinstance(
        retry_after, bool) and retry_after > 0 else None
    detail_code = _text(details.get("code")) if details is not None else None
    cls = _error_class(code, message, detail_code)
    return cls(code, message, details, bool(info.get("retryable")), retry_after_ms)


__all__ = [
    "GatewayAuthError",
    "GatewayCallError",
    "GatewayForbidden",
    "GatewayPairingRequired",
    "GatewayProtocolMismatch",
    "GatewayTlsMismatch",
    "GatewayUnreachable",
    "gateway_error",
]
