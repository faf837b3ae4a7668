"""The methods, events and scopes molt_desktop speaks, and the checks of their params.

Here: protocol version negotiation, `METHOD_SCOPES`, `required_scope`/`has_scope`, the closed
param sets of every method (`validate_params`) and of `connect` (`validate_connect_params`).
Params are checked against the official OpenClaw schema (`_schemas.py`, generated): every
property it documents is accepted, the ones molt_desktop does not use are dropped, anything
else is `INVALID_REQUEST "invalid <method> params: at root: unexpected property 'x'"`.
Methods the official schema lacks (`health`, `status`, `system-presence`, and molt_desktop's
own `molt.*` methods) have their schemas here (`_LOCAL_PARAMS`).
Not here: what the methods do (gateway/rpc/), frame parsing (frames.py).
Imports nothing else of molt_desktop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from molt_desktop.protocol._schemas import CONNECT_PARAMS, METHOD_PARAMS
from molt_desktop.protocol.frames import (
    CLOSE_POLICY,
    CLOSE_PROTOCOL,
    FORBIDDEN,
    INVALID_REQUEST,
    GatewayError,
)
from molt_desktop.protocol.validation import format_errors, schema_errors

PROTOCOL_MIN = 3
PROTOCOL_MAX = 4

SCOPE_READ = "operator.read"
SCOPE_WRITE = "operator.write"
SCOPE_ADMIN = "operator.admin"
SCOPE_APPROVALS = "operator.approvals"
SCOPE_PAIRING = "operator.pairing"
SCOPES = [SCOPE_READ, SCOPE_WRITE, SCOPE_ADMIN, SCOPE_APPROVALS, SCOPE_PAIRING]

ROLES = ("operator", "node")

# Scopes from protocol.schema.json `methods`; its "dynamic" ones are resolved by required_scope:
# sessions.patch is write for label/model changes and admin otherwise, sessions.delete is admin,
# agent is write (PROTOCOL.md section 3).
METHOD_SCOPES: dict[str, str] = {
    "health": SCOPE_READ,
    "status": SCOPE_READ,
    "models.list": SCOPE_READ,
    "sessions.list": SCOPE_READ,
    "sessions.preview": SCOPE_READ,
    "sessions.patch": SCOPE_WRITE,
    "sessions.reset": SCOPE_ADMIN,
    "sessions.delete": SCOPE_ADMIN,
    "chat.history": SCOPE_READ,
    "chat.send": SCOPE_WRITE,
    "chat.abort": SCOPE_WRITE,
    "chat.inject": SCOPE_ADMIN,
    "agent": SCOPE_WRITE,
    "agent.wait": SCOPE_WRITE,
    "config.get": SCOPE_READ,
    "config.patch": SCOPE_ADMIN,
    "logs.tail": SCOPE_READ,
    "device.pair.list": SCOPE_PAIRING,
    "device.pair.approve": SCOPE_PAIRING,
    "device.pair.reject": SCOPE_PAIRING,
    "system-presence": SCOPE_READ,
    # molt_desktop's own methods, in the `molt.` namespace the official schema does not use.
    # molt.chat.append: turns made on another gateway added to this one's transcript.
    "molt.chat.append": SCOPE_ADMIN,
}
METHODS = list(METHOD_SCOPES)
EXTENSION_PREFIX = "molt."

# Events we emit; the last two exist in protocol 4 only.
EVENTS = [
    "connect.challenge",
    "agent",
    "chat",
    "presence",
    "tick",
    "shutdown",
    "health",
    "device.pair.requested",
    "device.pair.resolved",
    "sessions.changed",
    "config.changed",
]
_P4_ONLY_EVENTS = frozenset({"sessions.changed", "config.changed"})

# sessions.patch fields a writer may change; any other field needs admin. A pin is a list
# preference like the label.
_PATCH_WRITE_FIELDS = frozenset({"key", "label", "model", "pinned"})

# Methods the official schema gives no params definition; closed sets from PROTOCOL.md.
_EMPTY: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
MAX_APPEND_MESSAGES = 200
_NON_EMPTY = {"type": "string", "minLength": 1, "maxLength": 512}
# A transcript message of molt.chat.append. Keys beyond these are accepted and not stored: a
# gateway's chat.history adds its own bookkeeping (`__openclaw`, `responseId`, ...) to messages.
_APPEND_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["user", "assistant"]},
        "content": {"anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "object", "required": ["type"],
                                        "properties": {"type": {"type": "string", "minLength": 1}}}},
        ]},
        "timestamp": {"type": "number", "minimum": 0},
        "provider": {"type": "string"},
        "model": {"type": "string"},
        "api": {"type": "string"},
        "usage": {"type": "object"},
        "stopReason": {"type": "string"},
        "errorMessage": {"type": "string"},
    },
}
_LOCAL_PARAMS: dict[str, dict[str, Any]] = {
    "health": {"type": "object", "properties": {"probe": {"type": "boolean"}}, "additionalProperties": False},
    "status": _EMPTY,
    "system-presence": _EMPTY,
    "molt.chat.append": {
        "type": "object",
        "required": ["sessionKey", "runId", "origin", "messages"],
        "properties": {
            "sessionKey": _NON_EMPTY,
            "runId": _NON_EMPTY,
            "origin": {
                "type": "object",
                "required": ["endpointId", "kind", "url"],
                "properties": {"endpointId": _NON_EMPTY, "kind": {"type": "string", "enum": ["local", "remote"]},
                               "url": {"type": "string", "maxLength": 2048}},
                "additionalProperties": False,
            },
            "messages": {"type": "array", "maxItems": MAX_APPEND_MESSAGES, "items": _APPEND_MESSAGE},
        },
        "additionalProperties": False,
    },
}

# The params each handler uses (PROTOCOL.md section 3); other documented ones are dropped.
USED_PARAMS: dict[str, frozenset[str]] = {
    "health": frozenset({"probe"}),
    "status": frozenset(),
    "models.list": frozenset(),
    "sessions.list": frozenset(
        {"limit", "offset", "activeMinutes", "includeLastMessage", "includeDerivedTitles", "label", "search", "agentId"}
    ),
    "sessions.preview": frozenset({"keys", "limit"}),
    "sessions.patch": frozenset(
        {
            "key", "label", "model", "thinkingLevel", "verboseLevel", "reasoningLevel",
            "responseUsage", "elevatedLevel", "sendPolicy", "groupActivation", "pinned",
        }
    ),
    "sessions.reset": frozenset({"key"}),
    "sessions.delete": frozenset({"key", "deleteTranscript"}),
    "chat.history": frozenset({"sessionKey", "limit"}),
    "chat.send": frozenset({"sessionKey", "message", "idempotencyKey", "thinking", "attachments", "timeoutMs"}),
    "chat.abort": frozenset({"sessionKey", "runId"}),
    "chat.inject": frozenset({"sessionKey", "message", "label"}),
    "agent": frozenset({"message", "idempotencyKey", "sessionKey", "agentId", "timeout"}),
    "agent.wait": frozenset({"runId", "timeoutMs"}),
    "config.get": frozenset(),
    "config.patch": frozenset({"raw", "baseHash", "note"}),
    "logs.tail": frozenset({"cursor", "limit", "maxBytes"}),
    "device.pair.list": frozenset(),
    "device.pair.approve": frozenset({"requestId"}),
    "device.pair.reject": frozenset({"requestId"}),
    "system-presence": frozenset(),
    "molt.chat.append": frozenset({"sessionKey", "runId", "origin", "messages"}),
}


def params_schema(method: str) -> dict[str, Any]:
    """The JSON schema the params of `method` must satisfy (KeyError for unknown methods)."""
    if method in _LOCAL_PARAMS:
        return _LOCAL_PARAMS[method]
    return METHOD_PARAMS[method]


def events_for(protocol: int) -> list[str]:
    """The event names announced in hello-ok for a connection speaking `protocol`."""
    return [e for e in EVENTS if protocol >= 4 or e not in _P4_ONLY_EVENTS]


# ---------------------------------------------------------------------------------------------
# Protocol version


def negotiate_protocol(min_protocol: int, max_protocol: int, *, server_max: int = PROTOCOL_MAX) -> int:
    """The highest version in both `[min, max]` and `[3, server_max]`, else the mismatch error.

    The error details are those of the real gateways: protocol-4 gateways say which range the
    client offered, the protocol-3 one (2026.1.29) only `expectedProtocol`.
    """
    server_max = max(PROTOCOL_MIN, min(server_max, PROTOCOL_MAX))
    chosen = min(max_protocol, server_max)
    if chosen >= max(min_protocol, PROTOCOL_MIN):
        return chosen
    details: dict[str, Any]
    if server_max >= 4:
        details = {
            "code": "PROTOCOL_MISMATCH",
            "clientMinProtocol": min_protocol,
            "clientMaxProtocol": max_protocol,
            "expectedProtocol": server_max,
            "minimumProbeProtocol": PROTOCOL_MIN,
        }
    else:
        details = {"expectedProtocol": server_max}
    raise GatewayError(INVALID_REQUEST, "protocol mismatch", details=details, close_code=CLOSE_PROTOCOL)


# ---------------------------------------------------------------------------------------------
# Scopes


def required_scope(method: str, params: Mapping[str, Any] | None = None) -> str:
    """The scope a call needs. Unknown methods need admin, as on the real gateway."""
    if method == "sessions.patch" and isinstance(params, Mapping):
        used = USED_PARAMS["sessions.patch"]
        if any(name in used and name not in _PATCH_WRITE_FIELDS for name in params):
            return SCOPE_ADMIN
        return SCOPE_WRITE
    return METHOD_SCOPES.get(method, SCOPE_ADMIN)


def has_scope(granted: Iterable[str], needed: str) -> bool:
    """Admin implies every scope; write implies read."""
    have = set(granted)
    if needed in have or SCOPE_ADMIN in have:
        return True
    return needed == SCOPE_READ and SCOPE_WRITE in have


def missing_scope_error(needed: str) -> GatewayError:
    """`FORBIDDEN "missing scope: operator.read"` with the details the real gateway sends."""
    return GatewayError(
        FORBIDDEN,
        f"missing scope: {needed}",
        details={"code": "MISSING_SCOPE", "missingScope": needed, "requiredScopes": [needed]},
    )


# ---------------------------------------------------------------------------------------------
# Params


def _as_int(value: Any) -> Any:
    # 5.0 from a JSON parser is the integer 5 (JavaScript cannot tell them apart).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def validate_params(method: str, params: Any, protocol: int = PROTOCOL_MAX) -> dict[str, Any]:
    """Check `params` of `method`; return only the params molt_desktop uses.

    Every property the official schema documents for the method (protocol-3 and protocol-4
    ones alike, for either `protocol`) is accepted and type-checked; unused ones are dropped.
    Raises `GatewayError(INVALID_REQUEST)` for unknown methods and invalid params.
    """
    if method not in METHOD_SCOPES:
        raise GatewayError(INVALID_REQUEST, f"unknown method: {method}")
    value = {} if params is None else params
    schema = params_schema(method)
    errors = schema_errors(schema, value)
    if errors:
        raise GatewayError(INVALID_REQUEST, f"invalid {method} params: {format_errors(errors)}")
    used = USED_PARAMS[method]
    properties: dict[str, Any] = schema.get("properties", {})
    clean: dict[str, Any] = {}
    for name, item in value.items():
        if name not in used:
            continue
        declared = properties.get(name, {}).get("type")
        clean[name] = _as_int(item) if declared == "integer" else item
    return clean


# ---------------------------------------------------------------------------------------------
# connect


@dataclass(frozen=True)
class ConnectParams:
    """A checked `connect` request. `client`, `device` and `auth` are the JSON objects as sent."""

    min_protocol: int
    max_protocol: int
    client: dict[str, Any]
    role: str = "operator"
    scopes: list[str] = field(default_factory=list)
    caps: list[str] = field(default_factory=list)
    device: dict[str, Any] | None = None
    auth: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None
    user_agent: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return str(self.client.get("id", ""))

    @property
    def client_mode(self) -> str:
        return str(self.client.get("mode", ""))

    @property
    def scopes_given(self) -> bool:
        return isinstance(self.raw.get("scopes"), list)


def validate_connect_params(params: Any) -> ConnectParams:
    """Check the params of `connect` against the official ConnectParams (a closed object).

    Failure: `INVALID_REQUEST "invalid connect params: ..."` (close 1008); an unknown role:
    `INVALID_REQUEST "invalid role"` (close 1008), as on the real gateway.
    """
    errors = schema_errors(CONNECT_PARAMS, params)
    if errors:
        raise GatewayError(
            INVALID_REQUEST, f"invalid connect params: {format_errors(errors)}", close_code=CLOSE_POLICY
        )
    assert isinstance(params, dict)
    role = params.get("role", "operator")
    if role not in ROLES:
        raise GatewayError(INVALID_REQUEST, "invalid role", close_code=CLOSE_POLICY)
    scopes = params.get("scopes")
    caps = params.get("caps")
    auth = params.get("auth")
    device = params.get("device")
    if device is not None:
        device = dict(device)
        device["signedAt"] = _as_int(device["signedAt"])
    return ConnectParams(
        min_protocol=int(params["minProtocol"]),
        max_protocol=int(params["maxProtocol"]),
        client=dict(params["client"]),
        role=role,
        # Default-deny: no scopes asked for means no scopes.
        scopes=list(scopes) if isinstance(scopes, list) else [],
        caps=list(caps) if isinstance(caps, list) else [],
        device=device,
        auth=dict(auth) if isinstance(auth, dict) else {},
        locale=params.get("locale"),
        user_agent=params.get("userAgent"),
        raw=params,
    )
