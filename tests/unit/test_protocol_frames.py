"""protocol/frames.py: parsing client frames, building res/event frames, GatewayError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from molt_desktop.protocol.frames import (
    CLOSE_TOO_BIG,
    GatewayError,
    RequestFrame,
    dumps,
    event_frame,
    parse_frame,
    request_frame,
    response_error,
    response_ok,
)
from tests.schema import validate

MAX = 64 * 1024

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


def _error(text: str | bytes, max_bytes: int = MAX) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        parse_frame(text, max_bytes=max_bytes)
    return info.value


def test_parses_a_request_frame() -> None:
    frame = parse_frame('{"type":"req","id":"1","method":"health","params":{"probe":true}}', max_bytes=MAX)
    assert frame == RequestFrame(id="1", method="health", params={"probe": True})


def test_bytes_and_missing_params() -> None:
    frame = parse_frame(b'{"type":"req","id":"a","method":"status"}', max_bytes=MAX)
    assert frame.params == {}
    assert parse_frame('{"type":"req","id":"a","method":"status","params":null}', max_bytes=MAX).params == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "invalid request frame: not valid JSON"),
        ("[1,2]", "invalid request frame: must be object"),
        ('{"type":"event","id":"1","method":"x"}', "invalid request frame: at /type: must be equal to constant"),
        ('{"type":"req","method":"x"}', "invalid request frame: must have required property 'id'"),
        ('{"type":"req","id":"","method":"x"}', "invalid request frame: at /id: must NOT have fewer than 1 characters"),
        ('{"type":"req","id":1,"method":"x"}', "invalid request frame: at /id: must be string"),
        ('{"type":"req","id":"1","method":"x","extra":1}', "invalid request frame: at root: unexpected property 'extra'"),
        ('{"type":"req","id":"1","method":"x","params":[1]}', "invalid request frame: at /params: must be object"),
        ('{"type":"req","id":"1","method":"x","params":NaN}', "invalid request frame: not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "invalid request frame: JSON nested too deeply"),
    ],
)
def test_rejections_say_what_is_wrong(text: str, message: str) -> None:
    err = _error(text, max_bytes=10**6)
    assert err.code == "INVALID_REQUEST"
    assert err.message == message
    assert err.close_code is None


def test_not_utf8() -> None:
    assert _error(b"\xff\xfe{}").message == "invalid request frame: not UTF-8 text"


def test_too_big_closes_with_1009() -> None:
    text = json.dumps({"type": "req", "id": "1", "method": "x", "params": {"a": "é" * 100}})
    err = _error(text, max_bytes=150)
    assert err.close_code == CLOSE_TOO_BIG
    assert "max 150" in err.message
    assert _error(text.encode(), max_bytes=150).close_code == CLOSE_TOO_BIG


def test_request_id_kept_for_the_answer() -> None:
    err = _error('{"type":"req","id":"abc","method":"x","bogus":1}')
    assert err.request_id == "abc"
    assert response_error(err.request_id, err)["id"] == "abc"
    assert response_error(None, err)["id"] == "invalid"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_input_only_raises_gateway_error(data: bytes | str) -> None:
    try:
        frame = parse_frame(data, max_bytes=150)
    except GatewayError:
        return
    assert isinstance(frame, RequestFrame)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_only_raises_gateway_error(value: Any) -> None:
    try:
        parse_frame(json.dumps(value), max_bytes=MAX)
    except GatewayError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=30),
    st.text(min_size=1, max_size=30),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)
def test_valid_frames_round_trip(request_id: str, method: str, params: dict[str, Any]) -> None:
    frame = request_frame(request_id, method, params)
    validate("RequestFrame", frame)
    parsed = parse_frame(dumps(frame), max_bytes=10**6)
    assert (parsed.id, parsed.method, parsed.params) == (request_id, method, params)
    assert parse_frame(dumps(frame).encode("utf-8"), max_bytes=10**6) == parsed


def test_builders_match_the_official_schema() -> None:
    validate("ResponseFrame", response_ok("1", {"ok": True}))
    err = GatewayError(
        "INVALID_REQUEST", "unauthorized", details={"code": "AUTH_RATE_LIMITED"}, retryable=True, retry_after_ms=1500
    )
    frame = response_error("1", err)
    validate("ResponseFrame", frame)
    assert frame["error"] == {
        "code": "INVALID_REQUEST",
        "message": "unauthorized",
        "details": {"code": "AUTH_RATE_LIMITED"},
        "retryable": True,
        "retryAfterMs": 1500,
    }
    validate("ErrorShape", GatewayError("NOT_FOUND", "").to_shape())  # empty message gets a default
    validate("EventFrame", event_frame("tick", {"ts": 1}, 3, {"presence": 1, "health": 2}))
    validate("EventFrame", event_frame("connect.challenge", {"nonce": "n", "ts": 1}))


def test_minimal_error_shape_omits_defaults() -> None:
    assert GatewayError("FORBIDDEN", "missing scope: operator.read").to_shape() == {
        "code": "FORBIDDEN",
        "message": "missing scope: operator.read",
    }


def test_close_reason_fits_a_close_frame() -> None:
    err = GatewayError("INVALID_REQUEST", "é" * 200)
    assert len(err.close_reason.encode("utf-8")) <= 123
    assert GatewayError("X", "short").close_reason == "short"


def test_dumps_is_compact_and_always_valid_utf8_json() -> None:
    assert dumps({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'
    assert json.loads(dumps({"x": float("nan"), "y": [float("inf")]})) == {"x": None, "y": [None]}
    lone = dumps({"s": "\ud800"})
    lone.encode("utf-8")
    assert json.loads(lone) == {"s": "\ud800"}
