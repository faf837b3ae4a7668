"""Wire frames of the OpenClaw gateway protocol: parsing requests, building responses and events.

Here: `GatewayError` (the ErrorShape of a failed request, plus the close code when the
connection must end), `parse_frame` (the only way bytes from a socket become a `RequestFrame`),
the `res`/`event` frame builders, `dumps`, and the WebSocket close codes.
Not here: which methods exist and their params (methods.py), device signatures (device.py),
who may connect (gateway/auth.py). Imports nothing else of molt_desktop.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from molt_desktop.protocol.validation import format_errors, request_frame_errors

# WebSocket close codes the gateway uses.
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL = 1002  # protocol version mismatch
CLOSE_POLICY = 1008  # bad handshake, failed auth, pairing required
CLOSE_TOO_BIG = 1009  # frame larger than the announced maxPayload
CLOSE_RESTART = 1012  # gateway restarting / stopping

# Error codes of the ErrorShape `code` field (OpenClaw's ErrorCodes plus the ones we need).
INVALID_REQUEST = "INVALID_REQUEST"
NOT_PAIRED = "NOT_PAIRED"
FORBIDDEN = "FORBIDDEN"
UNAVAILABLE = "UNAVAILABLE"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL"
AGENT_TIMEOUT = "AGENT_TIMEOUT"

# A WebSocket close reason may hold at most 123 bytes of UTF-8.
_MAX_CLOSE_REASON_BYTES = 123


class GatewayError(Exception):
    """A request failed; `to_shape()` is the `error` object of the `res` frame.

    `close_code` is set when the connection must be closed after the error is sent (handshake
    failures). `request_id` is the id of the offending frame when `parse_frame` could read one,
    so the gateway can still answer it (OpenClaw answers `"invalid"` otherwise).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retryable: bool = False,
        retry_after_ms: int | None = None,
        close_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or INTERNAL
        self.message = message or "request failed"  # the schema requires a non-empty message
        self.details = details
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms
        self.close_code = close_code
        self.request_id = request_id

    def to_shape(self) -> dict[str, Any]:
        """The ErrorShape: `code`, `message`, and `details`/`retryable`/`retryAfterMs` when set."""
        shape: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            shape["details"] = self.details
        if self.retryable:
            shape["retryable"] = True
        if self.retry_after_ms is not None:
            shape["retryAfterMs"] = max(0, int(self.retry_after_ms))
        return shape

    @property
    def close_reason(self) -> str:
        """The message cut to what fits in a WebSocket close frame (123 bytes of UTF-8)."""
        encoded = self.message.encode("utf-8")
        if len(encoded) <= _MAX_CLOSE_REASON_BYTES:
            return self.message
        return encoded[: _MAX_CLOSE_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."

    def __repr__(self) -> str:
        return f"GatewayError({self.code!r}, {self.message!r}, details={self.details!r})"


@dataclass(frozen=True)
class RequestFrame:
    """A parsed `{"type":"req"}` frame. `params` is always a dict (absent/null params are `{}`)."""

    id: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    traceparent: str | None = None


def _reject_constant(name: str) -> Any:
    # JSON has no NaN/Infinity; Python's json module accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")


def _bad_frame(message: str, *, request_id: str | None = None) -> GatewayError:
    return GatewayError(INVALID_REQUEST, f"invalid request frame: {message}", request_id=request_id)


def parse_frame(text: str | bytes | bytearray | memoryview, *, max_bytes: int) -> RequestFrame:
    """Parse one client frame into a `RequestFrame`, or raise `GatewayError` (never anything else).

    Rejects: frames over `max_bytes` (close 1009), bytes that are not UTF-8, text that is not
    JSON, JSON that is not an object, and objects that are not a valid RequestFrame (wrong or
    missing `type`, `id`, `method`, unknown keys, `params` not an object).
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        if len(raw) > max_bytes:
            raise GatewayError(
                INVALID_REQUEST,
                f"frame too large: {len(raw)} bytes (max {max_bytes})",
                close_code=CLOSE_TOO_BIG,
            )
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_frame("not UTF-8 text") from None
    elif isinstance(text, str):
        decoded = text
        # A code point is 1..4 bytes of UTF-8: only measure exactly when the bounds disagree.
        size = len(decoded)
        if size * 4 > max_bytes:
            size = len(decoded.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise GatewayError(
                INVALID_REQUEST, f"frame too large: {size} bytes (max {max_bytes})", close_code=CLOSE_TOO_BIG
            )
    else:
        raise _bad_frame("not a text frame")

    try:
        value = json.loads(decoded, parse_constant=_reject_constant)
    except RecursionError:
        raise _bad_frame("JSON nested too deeply") from None
    except ValueError:  # JSONDecodeError, NaN/Infinity, integers with too many digits
        raise _bad_frame("not valid JSON") from None

    if not isinstance(value, dict):
        raise _bad_frame("must be object")
    raw_id = value.get("id")
    request_id = raw_id if isinstance(raw_id, str) and raw_id else None
    errors = request_frame_errors(value)
    if errors:
        raise _bad_frame(format_errors(errors), request_id=request_id)
    params = value.get("params")
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        raise _bad_frame("at /params: must be object", request_id=request_id)
    traceparent = value.get("traceparent")
    return RequestFrame(
        id=value["id"],
        method=value["method"],
        params=params,
        traceparent=traceparent if isinstance(traceparent, str) else None,
    )


def request_frame(request_id: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `req` frame (what a client sends)."""
    return {"type": "req", "id": request_id, "method": method, "params": params if params is not None else {}}


def response_ok(request_id: str, payload: Any) -> dict[str, Any]:
    """A successful `res` frame."""
    return {"type": "res", "id": request_id, "ok": True, "payload": payload}


def response_error(request_id: str | None, err: GatewayError) -> dict[str, Any]:
    """A failed `res` frame. Without a usable id the frame answers `"invalid"`, as OpenClaw does."""
    return {"type": "res", "id": request_id or "invalid", "ok": False, "error": err.to_shape()}


def event_frame(
    event: str,
    payload: Any,
    seq: int | None = None,
    state_version: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An `event` frame; `seq` is the per-connection counter, `state_version` `{presence, health}`."""
    frame: dict[str, Any] = {"type": "event", "event": event, "payload": payload}
    if seq is not None:
        frame["seq"] = seq
    if state_version is not None:
        frame["stateVersion"] = {"presence": state_version["presence"], "health": state_version["health"]}
    return frame


def _finite(value: Any) -> Any:
    # Mirror JSON.stringify: non-finite numbers become null instead of invalid JSON.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(frame: Any) -> str:
    """Compact JSON text of a frame, always valid JSON that encodes to valid UTF-8."""
    try:
        text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(frame), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (legal in JSON strings, not in UTF-8): escape them as \\udXXX instead.
        text = json.dumps(_finite(frame), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text
