"""A fake Anthropic Messages API (`POST /v1/messages`), streaming exactly as the real one.

Stream: `message_start`, `content_block_start`, `ping`, `content_block_delta` (`text_delta`) per
chunk, `content_block_stop`, `message_delta` (stop_reason, usage), `message_stop`. Errors use
the API's own body `{"type":"error","error":{"type":..., "message":...}}` with the matching
status (429 rate_limit_error, 529 overloaded_error, ...); a mid-stream failure is an `error`
event. Behaviour and recording: common.py.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.common import (
    FakeBehavior,
    FakeState,
    RequestRecord,
    base_app,
    fail_response,
    open_request,
    open_stream,
    presented_key,
    sse_write,
    stream_done,
    stream_pieces,
    usage_for,
)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
DEFAULT_MESSAGES = {
    400: "prompt is too long: 250000 tokens > 200000 maximum",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "model: not found",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    503: "Service unavailable",
    529: "Overloaded",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "refusal": "refusal"}


def error_body(status: int, behavior: FakeBehavior) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {
            "type": behavior.fail_type or ERROR_TYPES.get(status, "api_error"),
            "message": behavior.fail_message or DEFAULT_MESSAGES.get(status, f"error {status}"),
        },
    }


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def messages(request: web.Request) -> web.StreamResponse:
    behavior, record, body = await open_request(request)
    if behavior.api_key is not None and presented_key(request) != behavior.api_key:
        return _fail(record, 401, behavior)
    if "anthropic-version" not in request.headers:
        return _fail(record, 400, behavior, "anthropic-version header is required")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or "max_tokens" not in body:
        return _fail(record, 400, behavior, "messages and max_tokens are required")
    status = behavior.take_failure()
    if status is not None:
        return _fail(record, status, behavior)
    model = str(body.get("model", "fake"))
    prompt_tokens, output_tokens = usage_for(behavior, body)
    pieces = behavior.pieces()
    stop_reason = STOP_REASONS.get(behavior.stop_reason, behavior.stop_reason)
    if not body.get("stream"):
        record.mark_text()
        record.mark_done(200)
        return web.json_response({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "".join(pieces)}], "stop_reason": stop_reason,
            "stop_sequence": None, "usage": {"input_tokens": prompt_tokens, "output_tokens": output_tokens},
        })

    response = await open_stream(request)
    start = _event("message_start", {
        "type": "message_start",
        "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": 1, "cache_read_input_tokens": 0,
                      "cache_creation_input_tokens": 0},
        },
    })
    block = _event("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}})
    if not await sse_write(response, record, start + block + _event("ping", {"type": "ping"})):
        return stream_done(record, response)
    if not await stream_pieces(
        response, record, behavior, pieces,
        lambda piece: _event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                     "delta": {"type": "text_delta", "text": piece}}),
        lambda status: _event("error", error_body(status, behavior)),
        529,
    ):
        return stream_done(record, response)
    tail = (
        _event("content_block_stop", {"type": "content_block_stop", "index": 0})
        + _event("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": {"output_tokens": output_tokens}})
        + _event("message_stop", {"type": "message_stop"})
    )
    await sse_write(response, record, tail)
    return stream_done(record, response)


def _fail(record: RequestRecord, status: int, behavior: FakeBehavior, message: str | None = None) -> web.Response:
    return fail_response(record, status, behavior, error_body(status, behavior), message)


def make_app(state: FakeState) -> web.Application:
    app = base_app(state)
    app.router.add_post("/v1/messages", messages)
    return app
