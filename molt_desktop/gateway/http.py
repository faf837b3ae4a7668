"""HTTP on the gateway's port: health probes, `/metrics`, and the OpenAI-compatible `/v1/*` API.

The OpenAI endpoints run turns through the same agent runtime as `chat.send` and read the run's
`chat` events, so a reply streamed over HTTP is stored and visible over the WebSocket too.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from molt_desktop.logs import get_logger
from molt_desktop.paths import DEFAULT_AGENT_ID, sessions_dir

if TYPE_CHECKING:
    from molt_desktop.gateway.state import GatewayState

log = get_logger("gateway.http")

HTTP_STATE: web.AppKey[Any] = web.AppKey("http_state")
OPENAI_MODEL_IDS = ("openclaw", "openclaw/default")


def json_error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind}}, status=status)


def unauthorized() -> web.Response:
    return json_error(401, "Unauthorized", "unauthorized")


def add_routes(app: web.Application, state: GatewayState) -> None:
    app[HTTP_STATE] = state
    app.router.add_get("/health", _live)
    app.router.add_get("/healthz", _live)
    app.router.add_get("/readyz", _ready)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    app.middlewares.append(_errors_as_json)


@web.middleware
async def _errors_as_json(request: web.Request, handler: Any) -> web.StreamResponse:
    state: GatewayState = request.app[HTTP_STATE]
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 101:
            raise
        response = json_error(exc.status, exc.reason or "error", "not_found" if exc.status == 404 else "http_error")
    path = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    state.metrics.http_requests.labels(path=path, status=str(response.status)).inc()
    return response


def _authorized(request: web.Request) -> bool:
    state: GatewayState = request.app[HTTP_STATE]
    auth = state.auth()
    if auth.mode == "none":
        return True
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return False
    presented = header[7:].strip().encode("utf-8")
    secrets = [s for s in (auth.token, auth.password) if s]
    ok = any(hmac.compare_digest(presented, s.encode("utf-8")) for s in secrets)
    if not ok:
        state.metrics.auth_failures.labels(reason="http_bearer").inc()
    return ok


async def _live(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "status": "live"})


def readiness(state: GatewayState) -> tuple[list[str], list[str]]:
    """(failing, warnings): failing makes `/readyz` answer 503."""
    failing: list[str] = []
    warnings: list[str] = []
    directory = sessions_dir(state.state_dir, DEFAULT_AGENT_ID)
    probe = directory if directory.exists() else state.state_dir
    if not os.access(probe, os.W_OK):
        failing.append(f"session store not writable: {probe}")
    failing.extend(state.runtime.readiness_problems())
    error = state.config.last_error
    if error is not None:
        warnings.append(f"config: the last edit is invalid and was not applied: {error}")
    return failing, warnings


async def _ready(request: web.Request) -> web.Response:
    state: GatewayState = request.app[HTTP_STATE]
    failing, warnings = await asyncio.to_thread(readiness, state)
    body: dict[str, Any] = {"ready": not failing, "failing": failing, "uptimeMs": state.uptime_ms}
    if warnings:
        body["warnings"] = warnings
    return web.json_response(body, status=200 if not failing else 503)


async def _metrics(request: web.Request) -> web.Response:
    if not _authorized(request):
        return unauthorized()
    state: GatewayState = request.app[HTTP_STATE]
    body = state.metrics.render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def _chat_completions_enabled(state: GatewayState) -> bool:
    return bool(state.config.current.config.gateway.http.endpoints.chatCompletions.enabled)


async def _models(request: web.Request) -> web.Response:
    state: GatewayState = request.app[HTTP_STATE]
    if not _chat_completions_enabled(state):
        return json_error(404, "Not Found", "not_found")
    if not _authorized(request):
        return unauthorized()
    created = state.started_ms // 1000
    data = [{"id": mid, "object": "model", "created": created, "owned_by": "openclaw"}
            for mid in (*OPENAI_MODEL_IDS, f"openclaw/{DEFAULT_AGENT_ID}")]
    return web.json_response({"object": "list", "data": data})


def _agent_for_model(model: Any) -> str | None:
    if model in OPENAI_MODEL_IDS:
        return DEFAULT_AGENT_ID
    if isinstance(model, str) and model.startswith("openclaw/"):
        agent_id = model.split("/", 1)[1]
        return agent_id if agent_id == DEFAULT_AGENT_ID else None
    return None


def _last_user_text(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return None


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    state: GatewayState = request.app[HTTP_STATE]
    if not _chat_completions_enabled(state):
        return json_error(404, "Not Found", "not_found")
    if not _authorized(request):
        return unauthorized()
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return json_error(400, "The request body is not valid JSON.", "invalid_request_error")
    if not isinstance(body, dict):
        return json_error(400, "The request body must be a JSON object.", "invalid_request_error")
    model = body.get("model", "openclaw")
    agent_id = _agent_for_model(model)
    if agent_id is None:
        return json_error(400, f"Unknown model {model!r}: use openclaw, openclaw/default or openclaw/<agentId>.",
                          "invalid_request_error")
    text = _last_user_text(body.get("messages"))
    if not text:
        return json_error(400, "messages must contain a user message with text.", "invalid_request_error")
    session_key = request.headers.get("x-openclaw-session-key", "").strip()
    if not session_key:
        user = body.get("user")
        if isinstance(user, str) and user.strip():
            session_key = f"agent:{agent_id}:openai-user:{user.strip()}"
        else:
            session_key = f"agent:{agent_id}:openai:{uuid.uuid4()}"
    run = _RunListener(state)
    try:
        started = await state.runtime.send(session_key, text, str(uuid.uuid4()))
        run.follow(started["runId"])
        if body.get("stream"):
            return await _stream(request, run, str(model), session_key)
        return await _complete(run, str(model), session_key)
    finally:
        run.close()


class _RunListener:
    """The `chat` events of one run, as a queue (events before `follow` are kept too)."""

    def __init__(self, state: GatewayState) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.run_id: str | None = None
        self._early: list[dict[str, Any]] = []
        self._remove = state.add_listener(self._on_event)

    def _on_event(self, event: str, payload: dict[str, Any]) -> None:
        if event != "chat":
            return
        if self.run_id is None:
            self._early.append(payload)
        elif payload.get("runId") == self.run_id:
            self.queue.put_nowait(payload)

    def follow(self, run_id: str) -> None:
        self.run_id = run_id
        for payload in self._early:
            if payload.get("runId") == run_id:
                self.queue.put_nowait(payload)
        self._early.clear()

    def close(self) -> None:
        self._remove()


def _text(payload: dict[str, Any]) -> str:
    message = payload.get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def _usage(payload: dict[str, Any]) -> dict[str, int] | None:
    usage = payload.get("usage") or (payload.get("message") or {}).get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("input") or 0)
    completion = int(usage.get("output") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def _complete(run: _RunListener, model: str, session_key: str) -> web.Response:
    while True:
        payload = await run.queue.get()
        state = payload.get("state")
        if state == "final":
            completion: dict[str, Any] = {
                "id": f"chatcmpl-{run.run_id}", "object": "chat.completion", "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": _text(payload)},
                             "finish_reason": "stop"}],
            }
            usage = _usage(payload)
            if usage:
                completion["usage"] = usage
            return web.json_response(completion, headers={"x-openclaw-session-key": session_key})
        if state in ("error", "aborted"):
            message = payload.get("errorMessage") or "The run was aborted."
            status = 429 if payload.get("errorKind") == "rate_limit" else 502
            return json_error(status, str(message), "upstream_error" if state == "error" else "aborted")


async def _stream(request: web.Request, run: _RunListener, model: str, session_key: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "x-openclaw-session-key": session_key})
    await response.prepare(request)
    created = int(time.time())
    chunk_id = f"chatcmpl-{run.run_id}"

    async def send(delta: dict[str, Any], finish: str | None) -> None:
        chunk = {"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

    sent = ""
    first = True
    while True:
        payload = await run.queue.get()
        state = payload.get("state")
        if state in ("delta", "final"):
            text = _text(payload)
            if text.startswith(sent) and len(text) > len(sent):
                delta: dict[str, Any] = {"content": text[len(sent):]}
                if first:
                    delta["role"] = "assistant"
                    first = False
                await send(delta, None)
                sent = text
            if state == "final":
                await send({}, "stop")
                break
        elif state in ("error", "aborted"):
            message = payload.get("errorMessage") or "The run was aborted."
            error = {"error": {"message": str(message), "type": "upstream_error" if state == "error" else "aborted"}}
            await response.write(f"data: {json.dumps(error, ensure_ascii=False)}\n\n".encode())
            break
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response
