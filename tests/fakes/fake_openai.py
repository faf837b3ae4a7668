"""A fake OpenAI chat-completions API (`POST /v1/chat/completions`, `GET /v1/models`).

Streams `data: {chat.completion.chunk}` lines — a role chunk, one content chunk per piece, a
chunk with `finish_reason`, a usage chunk when `stream_options.include_usage` is set — and ends
with `data: [DONE]`, as OpenAI and the compatible servers (DeepSeek, Qwen, Ollama) do. Errors use
OpenAI's body `{"error":{"message", "type", "param", "code"}}`; a mid-stream failure is a
`data: {"error": {...}}` line. Behaviour and recording: common.py.
"""

from __future__ import annotations

import json
import time
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

ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", "context_length_exceeded",
          "This model's maximum context length is 32000 tokens. However, your messages resulted in 40000 tokens."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    402: ("insufficient_balance", None, "Insufficient Balance"),
    403: ("permission_denied", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
FINISH_REASONS = {"stop": "stop", "length": "length", "refusal": "content_filter"}


def error_body(status: int, behavior: FakeBehavior) -> dict[str, Any]:
    kind, code, message = ERRORS.get(status, ("server_error", None, f"error {status}"))
    if behavior.fail_message and status == 400:
        code = None  # a custom 400 is some other invalid request, not the context-length one
    return {"error": {"message": behavior.fail_message or message, "type": behavior.fail_type or kind,
                      "param": None, "code": code}}


def _chunk(model: str, created: int, delta: dict[str, Any], finish: str | None) -> str:
    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


async def chat_completions(request: web.Request) -> web.StreamResponse:
    behavior, record, body = await open_request(request)
    if behavior.api_key is not None and presented_key(request) != behavior.api_key:
        return _fail(record, 401, behavior)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
        return _fail(record, 400, behavior, "model and messages are required")
    status = behavior.take_failure()
    if status is not None:
        return _fail(record, status, behavior)
    model = str(body["model"])
    created = int(time.time())
    prompt_tokens, output_tokens = usage_for(behavior, body)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens,
             "total_tokens": prompt_tokens + output_tokens}
    pieces = behavior.pieces()
    finish = FINISH_REASONS.get(behavior.stop_reason, behavior.stop_reason)
    if not body.get("stream"):
        record.mark_text()
        record.mark_done(200)
        return web.json_response({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                         "finish_reason": finish}],
            "usage": usage,
        })

    response = await open_stream(request)
    if not await sse_write(response, record, _chunk(model, created, {"role": "assistant", "content": ""}, None)):
        return stream_done(record, response)
    if not await stream_pieces(
        response, record, behavior, pieces,
        lambda piece: _chunk(model, created, {"content": piece}, None),
        lambda status: f"data: {json.dumps(error_body(status, behavior))}\n\n",
        500,
    ):
        return stream_done(record, response)
    tail = _chunk(model, created, {}, finish)
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        usage_chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [], "usage": usage}
        tail += f"data: {json.dumps(usage_chunk)}\n\n"
    await sse_write(response, record, tail + "data: [DONE]\n\n")
    return stream_done(record, response)


async def models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [
        {"id": "fake-1", "object": "model", "created": 0, "owned_by": "fake"},
    ]})


def _fail(record: RequestRecord, status: int, behavior: FakeBehavior, message: str | None = None) -> web.Response:
    return fail_response(record, status, behavior, error_body(status, behavior), message)


def make_app(state: FakeState) -> web.Application:
    app = base_app(state)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", models)
    return app
