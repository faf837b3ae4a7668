"""protocol/methods.py: scopes, protocol negotiation, params and connect params checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molt_desktop.protocol import _schemas
from molt_desktop.protocol.frames import CLOSE_POLICY, CLOSE_PROTOCOL, GatewayError, response_error
from molt_desktop.protocol.methods import (
    EXTENSION_PREFIX,
    METHOD_SCOPES,
    USED_PARAMS,
    ConnectParams,
    events_for,
    has_scope,
    missing_scope_error,
    negotiate_protocol,
    params_schema,
    required_scope,
    validate_connect_params,
    validate_params,
)
from tests.schema import is_valid, schema, validate

CAPTURES = Path(__file__).resolve().parent.parent / "fixtures" / "captures"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(
    max_size=20
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def example(sub: dict[str, Any]) -> Any:
    """A small valid instance of a params property schema (checked against jsonschema below)."""
    if "const" in sub:
        return sub["const"]
    if "enum" in sub:
        return sub["enum"][0]
    if "anyOf" in sub:
        return example(sub["anyOf"][0])
    kind = sub.get("type")
    if kind == "string":
        return "x" * max(1, sub.get("minLength", 1))
    if kind in ("integer", "number"):
        return sub.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        return [example(sub["items"])] * sub.get("minItems", 0) if isinstance(sub.get("items"), dict) else []
    if kind == "object":
        props = sub.get("properties", {})
        return {name: example(props[name]) for name in sub.get("required", []) if name in props}
    return "anything"


def minimal(method: str) -> dict[str, Any]:
    return example(params_schema(method))  # type: ignore[no-any-return]


# --- schema and scopes ------------------------------------------------------------------------


def test_generated_schemas_match_the_vendored_official_schema() -> None:
    definitions = schema()["definitions"]
    assert _schemas.CONNECT_PARAMS == definitions["ConnectParams"]
    for method, name in _schemas.DEFINITION_NAMES.items():
        assert _schemas.METHOD_PARAMS[method] == definitions[name], method


def test_method_scopes_follow_the_official_schema() -> None:
    official = schema()["methods"]
    for method, scope in METHOD_SCOPES.items():
        if method.startswith(EXTENSION_PREFIX):
            assert method not in official  # our own methods never shadow an official one
            continue
        declared = official[method]["scope"]
        if declared == "dynamic":
            assert method in ("sessions.patch", "sessions.delete", "agent")
        else:
            assert scope == declared, method


def test_required_scope() -> None:
    assert required_scope("chat.history", {}) == "operator.read"
    assert required_scope("sessions.patch", {"key": "k", "label": "x", "model": None}) == "operator.write"
    assert required_scope("sessions.patch", {"key": "k", "thinkingLevel": "high"}) == "operator.admin"
    # pinning, like a label, is the user's own view of the list: write scope
    assert required_scope("sessions.patch", {"key": "k", "label": "x", "pinned": True}) == "operator.write"
    assert required_scope("sessions.delete", {"key": "k"}) == "operator.admin"
    assert required_scope("agent", {}) == "operator.write"
    assert required_scope("no.such.method", {}) == "operator.admin"  # as in frames-nodevice-ui


def test_has_scope() -> None:
    assert has_scope({"operator.admin"}, "operator.pairing")
    assert has_scope({"operator.write"}, "operator.read")
    assert not has_scope({"operator.read"}, "operator.write")
    assert not has_scope({"operator.write"}, "operator.pairing")
    assert not has_scope(set(), "operator.read")


def test_missing_scope_error_is_what_the_gateway_sends() -> None:
    shape = missing_scope_error("operator.read").to_shape()
    recorded = [json.loads(line) for line in (CAPTURES / "frames-nodevice-ui.jsonl").read_text().splitlines()]
    forbidden = next(r["frame"]["error"] for r in recorded if r["frame"].get("error", {}).get("code") == "FORBIDDEN")
    assert shape == forbidden
    validate("MissingScopeErrorDetails", shape["details"])
    validate("ResponseFrame", response_error("1", missing_scope_error("operator.write")))


def test_events_per_protocol() -> None:
    assert "sessions.changed" in events_for(4)
    assert "sessions.changed" not in events_for(3)
    assert "chat" in events_for(3)


# --- protocol version -------------------------------------------------------------------------


def test_negotiation_picks_the_highest_common_version() -> None:
    assert negotiate_protocol(3, 4) == 4
    assert negotiate_protocol(3, 4, server_max=3) == 3
    assert negotiate_protocol(3, 3) == 3
    assert negotiate_protocol(1, 9) == 4


@pytest.mark.parametrize(
    ("low", "high", "server_max", "details"),
    [
        (99, 99, 4, {"code": "PROTOCOL_MISMATCH", "clientMinProtocol": 99, "clientMaxProtocol": 99,
                     "expectedProtocol": 4, "minimumProbeProtocol": 3}),
        (99, 99, 3, {"expectedProtocol": 3}),
        (1, 2, 4, {"code": "PROTOCOL_MISMATCH", "clientMinProtocol": 1, "clientMaxProtocol": 2,
                   "expectedProtocol": 4, "minimumProbeProtocol": 3}),
        (4, 4, 3, {"expectedProtocol": 3}),
    ],
)
def test_negotiation_mismatch(low: int, high: int, server_max: int, details: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as info:
        negotiate_protocol(low, high, server_max=server_max)
    assert info.value.message == "protocol mismatch"
    assert info.value.details == details
    assert info.value.close_code == CLOSE_PROTOCOL


# --- params -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(METHOD_SCOPES))
def test_minimal_params_are_accepted(method: str) -> None:
    params = minimal(method)
    assert set(validate_params(method, params, 3)) <= set(params)
    if not params_schema(method).get("required"):
        assert validate_params(method, None, 4) == {}


def _documented(method: str) -> list[tuple[str, dict[str, Any]]]:
    return list(params_schema(method).get("properties", {}).items())


@pytest.mark.parametrize(
    ("method", "name", "sub"),
    [(m, n, s) for m in METHOD_SCOPES for n, s in _documented(m)],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_documented_property_is_accepted(method: str, name: str, sub: dict[str, Any]) -> None:
    params = {**minimal(method), name: example(sub)}
    if method in _schemas.DEFINITION_NAMES:
        validate(_schemas.DEFINITION_NAMES[method], params)  # the example itself is valid
    for protocol in (3, 4):
        clean = validate_params(method, params, protocol)
        assert (name in clean) == (name in USED_PARAMS[method])


def test_used_params_are_documented() -> None:
    for method, used in USED_PARAMS.items():
        assert used <= set(params_schema(method).get("properties", {})), method


def test_protocol3_and_protocol4_chat_send() -> None:
    p3 = {"sessionKey": "agent:main:main", "message": "hi", "idempotencyKey": "k", "thinking": "low",
          "attachments": [], "timeoutMs": 1000, "deliver": False}
    assert validate_params("chat.send", p3, 3) == {k: v for k, v in p3.items() if k != "deliver"}
    p4 = {**p3, "queueMode": "steer", "originatingChannel": "x", "fastMode": "auto"}
    assert validate_params("chat.send", p4, 4) == validate_params("chat.send", p3, 3)


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("chat.send", {"sessionKey": "s", "message": "m", "idempotencyKey": "k", "bogus": 1},
         "invalid chat.send params: at root: unexpected property 'bogus'"),
        ("chat.history", {"sessionKey": "s", "limit": "5"}, "invalid chat.history params: at /limit: must be integer"),
        ("chat.history", {"sessionKey": "s", "limit": 5000}, "invalid chat.history params: at /limit: must be <= 1000"),
        ("chat.history", {"limit": 0},
         "invalid chat.history params: must have required property 'sessionKey'; at /limit: must be >= 1"),
        ("chat.send", {"sessionKey": "s", "message": "m", "idempotencyKey": "k", "deliver": "full"},
         "invalid chat.send params: at /deliver: must be boolean"),
        ("sessions.patch", {"key": "k", "label": 5},
         "invalid sessions.patch params: at /label: must be string; at /label: must be null; "
         "at /label: must match a schema in anyOf"),
        ("sessions.preview", {"keys": []}, "invalid sessions.preview params: at /keys: must NOT have fewer than 1 items"),
        ("health", {"probe": "yes"}, "invalid health params: at /probe: must be boolean"),
        ("status", {"x": 1}, "invalid status params: at root: unexpected property 'x'"),
        ("config.get", [], "invalid config.get params: must be object"),
        ("device.pair.approve", {}, "invalid device.pair.approve params: must have required property 'requestId'"),
        ("models.list", {"preparedOnly": True, "refresh": True}, "invalid models.list params: must NOT be valid"),
    ],
)
def test_invalid_params_are_explained(method: str, params: Any, message: str) -> None:
    with pytest.raises(GatewayError) as info:
        validate_params(method, params, 4)
    assert info.value.code == "INVALID_REQUEST"
    assert info.value.message == message
    validate("ResponseFrame", response_error("1", info.value))


def test_unknown_method() -> None:
    with pytest.raises(GatewayError, match="unknown method: nope"):
        validate_params("nope", {}, 4)


def test_integral_floats_become_ints() -> None:
    clean = validate_params("chat.history", {"sessionKey": "s", "limit": 5.0}, 4)
    assert clean["limit"] == 5 and isinstance(clean["limit"], int)


def test_hostile_keys_keep_the_message_short() -> None:
    params = {f"k{i}" * 50: i for i in range(1000)}
    with pytest.raises(GatewayError) as info:
        validate_params("status", params, 4)
    assert len(info.value.message) < 2000
    assert info.value.message.endswith("and 990 more")


def _fuzz_params(method: str) -> st.SearchStrategy[Any]:
    names = [n for n, _ in _documented(method)] or ["x"]
    keyed = st.dictionaries(st.sampled_from(names + ["bogus"]), json_values, max_size=6)
    return json_values | keyed | st.builds(lambda extra: {**minimal(method), **extra}, keyed)


@pytest.mark.parametrize("method", list(METHOD_SCOPES))
def test_fuzzed_params_only_return_a_dict_or_raise_gateway_error(method: str) -> None:
    official = _schemas.DEFINITION_NAMES.get(method)

    @settings(max_examples=150, deadline=None)
    @given(_fuzz_params(method))
    def check(params: Any) -> None:
        try:
            clean = validate_params(method, params, 4)
        except GatewayError as err:
            assert err.code == "INVALID_REQUEST"
            assert err.message.startswith(f"invalid {method} params: ")
            if official:
                assert not is_valid(official, params if params is not None else {})
            return
        assert isinstance(clean, dict)
        assert set(clean) <= USED_PARAMS[method]
        if official:
            assert is_valid(official, params if params is not None else {})

    check()


# --- connect ----------------------------------------------------------------------------------


def _connect_frames() -> list[tuple[str, dict[str, Any]]]:
    frames = []
    for path in sorted(CAPTURES.glob("frames-*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["dir"] == "->" and record["frame"].get("method") == "connect":
                frames.append((path.stem, record["frame"]["params"]))
    return frames


@pytest.mark.parametrize(("name", "params"), _connect_frames(), ids=lambda v: v if isinstance(v, str) else "")
def test_recorded_connect_params_are_accepted(name: str, params: dict[str, Any]) -> None:
    checked = validate_connect_params(params)
    assert isinstance(checked, ConnectParams)
    assert checked.client_id == params["client"]["id"]
    assert checked.scopes == params["scopes"]
    assert checked.role == "operator"


def _connect(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"minProtocol": 3, "maxProtocol": 4,
                            "client": {"id": "cli", "version": "1", "platform": "linux", "mode": "cli"}}
    base.update(changes)
    return base


def test_connect_protocol4_extras() -> None:
    params = _connect(auth={"token": "t", "deviceToken": "d"},
                      client={"id": "cli", "version": "1", "platform": "linux", "mode": "cli", "timeZone": "UTC",
                              "buildId": "b"})
    checked = validate_connect_params(params)
    assert checked.auth == {"token": "t", "deviceToken": "d"}
    assert checked.scopes == [] and not checked.scopes_given


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (_connect(extra=1), "invalid connect params: at root: unexpected property 'extra'"),
        (_connect(client={"id": "cli", "version": "1", "platform": "linux", "mode": "cli", "x": 1}),
         "invalid connect params: at /client: unexpected property 'x'"),
        (_connect(client={"id": "nobody", "version": "1", "platform": "linux", "mode": "cli"}),
         "invalid connect params: at /client/id: must be equal to one of the allowed values"),
        ({"minProtocol": 3}, "invalid connect params: must have required property 'maxProtocol'; "
                             "must have required property 'client'"),
        (_connect(auth={"token": 5}), "invalid connect params: at /auth/token: must be string"),
        (_connect(role="king"), "invalid role"),
        ("x", "invalid connect params: must be object"),
    ],
)
def test_bad_connect_params(params: Any, message: str) -> None:
    with pytest.raises(GatewayError) as info:
        validate_connect_params(params)
    assert info.value.message == message
    assert info.value.close_code == CLOSE_POLICY


@settings(max_examples=300, deadline=None)
@given(json_values | st.dictionaries(st.sampled_from(["minProtocol", "maxProtocol", "client", "auth", "device",
                                                      "scopes", "role", "caps"]), json_values, max_size=6))
def test_fuzzed_connect_params(params: Any) -> None:
    try:
        checked = validate_connect_params(params)
    except GatewayError as err:
        assert err.code == "INVALID_REQUEST"
        return
    assert isinstance(checked, ConnectParams)
    assert is_valid("ConnectParams", params)
