"""What both fake model servers share: behaviour, request records, control endpoints, the server.

A fake speaks one provider's wire format (fake_anthropic.py, fake_openai.py) and takes its
behaviour from a `FakeBehavior`: the reply text and how it is cut into chunks, per-chunk and
first-byte delays, forced errors (status + the provider's own error body, for the next N
requests), an error in the middle of the stream, the expected API key, token usage.

Every request is recorded (path, headers, JSON body, monotonic and wall-clock times of arrival,
first byte, first text chunk and end) so tests can inspect what the app sent and benchmarks can
measure the gateway's overhead over the fake's first byte.

Control endpoints, for a fake running as a separate process (`python -m tests.fakes.serve`):
- `POST /_control` JSON: `text`, `chunks`, `delay`, `firstByteDelay`, `fail` (status),
  `times` (how many requests fail; -1 = all), `failMessage`, `failType`, `failAfterChunks`,
  `retryAfter`, `apiKey`, `usage` {input, output}, `stopReason`, `reset` (defaults first).
  Answers the behaviour now in force.
- `GET /_stats`: `{count, requests:[{path, status, model, stream, chunks, disconnected,
  receivedAt, firstByteAt, firstTextAt, doneAt (time.monotonic(), comparable between processes
  on one machine), receivedWall, firstByteWall, firstTextWall, doneWall (time.time())}]}`.
- `GET /_requests`: the full records, headers and bodies included.  `POST /_reset`: forget them.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from aiohttp import web

Kind = Literal["openai", "anthropic"]
DEFAULT_TEXT = "Hello from the fake model. This is a streamed reply."


@dataclass
class FakeBehavior:
    text: str = DEFAULT_TEXT
    chunks: int | None = None  # None: one chunk per word, as in the real captures
    delay: float = 0.0  # seconds between two chunks
    first_byte_delay: float = 0.0  # seconds before the response starts
    fail_status: int | None = None
    fail_times: int = 0  # requests left to fail; -1 = every request
    fail_message: str | None = None
    fail_type: str | None = None
    fail_after_chunks: int | None = None  # send this many chunks, then an error event
    retry_after: float | None = None
    api_key: str | None = None  # when set, any other key gets 401
    usage_input: int | None = None
    usage_output: int | None = None
    stop_reason: str = "stop"  # stop | length | refusal

    def pieces(self) -> list[str]:
        """The reply cut into chunks. More chunks than characters repeat the text."""
        text = self.text or " "
        if self.chunks is None:
            # Words with the punctuation before them, as the recorded fake model streamed:
            # "Hello", " from", ..., " model", ". This", ..., " reply", "."
            return re.findall(r"[^\w\s]*\s*\w+|\s*[^\w\s]+|\s+", text) or [text]
        count = max(1, self.chunks)
        if count > len(text):
            text = (text * math.ceil(count / len(text)))[:count]
        size, extra = divmod(len(text), count)
        out: list[str] = []
        start = 0
        for index in range(count):
            end = start + size + (1 if index < extra else 0)
            out.append(text[start:end])
            start = end
        return out

    def full_text(self) -> str:
        return "".join(self.pieces())

    def take_failure(self) -> int | None:
        """The status to fail this request with, if a forced failure is pending."""
        if self.fail_status is None or self.fail_times == 0:
            return None
        if self.fail_times > 0:
            self.fail_times -= 1
        return self.fail_status

    def update(self, control: dict[str, Any]) -> None:
        if control.get("reset"):
            for f in fields(FakeBehavior):
                setattr(self, f.name, getattr(FakeBehavior(), f.name))
        names = {
            "text": "text", "chunks": "chunks", "delay": "delay", "firstByteDelay": "first_byte_delay",
            "failMessage": "fail_message", "failType": "fail_type", "failAfterChunks": "fail_after_chunks",
            "retryAfter": "retry_after", "apiKey": "api_key", "stopReason": "stop_reason",
        }
        for key, attr in names.items():
            if key in control:
                setattr(self, attr, control[key])
        if "fail" in control:
            self.fail_status = control["fail"]
            self.fail_times = int(control.get("times", 1)) if control["fail"] is not None else 0
        elif "times" in control:
            self.fail_times = int(control["times"])
        usage = control.get("usage")
        if isinstance(usage, dict):
            self.usage_input = usage.get("input", self.usage_input)
            self.usage_output = usage.get("output", self.usage_output)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestRecord:
    path: str
    method: str
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.monotonic)
    received_wall: float = field(default_factory=time.time)
    first_byte_at: float | None = None
    first_byte_wall: float | None = None
    first_text_at: float | None = None
    first_text_wall: float | None = None
    done_at: float | None = None
    done_wall: float | None = None
    status: int | None = None
    chunks: int = 0
    disconnected: bool = False

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream")) if isinstance(self.body, dict) else False

    def mark_first_byte(self) -> None:
        if self.first_byte_at is None:
            self.first_byte_at, self.first_byte_wall = time.monotonic(), time.time()

    def mark_text(self) -> None:
        self.chunks += 1
        if self.first_text_at is None:
            self.first_text_at, self.first_text_wall = time.monotonic(), time.time()

    def mark_done(self, status: int) -> None:
        self.status = status
        self.done_at, self.done_wall = time.monotonic(), time.time()

    def stats(self) -> dict[str, Any]:
        return {
            "path": self.path, "status": self.status, "model": self.model, "stream": self.stream,
            "chunks": self.chunks, "disconnected": self.disconnected,
            "receivedAt": self.received_at, "firstByteAt": self.first_byte_at,
            "firstTextAt": self.first_text_at, "doneAt": self.done_at,
            "receivedWall": self.received_wall, "firstByteWall": self.first_byte_wall,
            "firstTextWall": self.first_text_wall, "doneWall": self.done_wall,
        }

    def full(self) -> dict[str, Any]:
        return {**self.stats(), "method": self.method, "headers": self.headers, "body": self.body}


@dataclass
class FakeState:
    kind: Kind
    behavior: FakeBehavior = field(default_factory=FakeBehavior)
    requests: list[RequestRecord] = field(default_factory=list)

    async def begin(self, request: web.Request) -> tuple[RequestRecord, Any]:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = RequestRecord(request.path, request.method, dict(request.headers), body)
        self.requests.append(record)
        return record, body


STATE: web.AppKey[FakeState] = web.AppKey("fake_state", FakeState)


def presented_key(request: web.Request) -> str | None:
    """The API key the client sent: `Authorization: Bearer` or Anthropic's `x-api-key`."""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


async def sse_write(response: web.StreamResponse, record: RequestRecord, data: str) -> bool:
    """Write one SSE frame; False when the client went away (an abort)."""
    try:
        await response.write(data.encode())
    except (ConnectionResetError, ConnectionError, RuntimeError):
        record.disconnected = True
        return False
    return True


async def open_request(request: web.Request) -> tuple[FakeBehavior, RequestRecord, Any]:
    """Record a model request and wait out its first-byte delay: (behaviour, record, JSON body)."""
    state = request.app[STATE]
    record, body = await state.begin(request)
    await sleep(state.behavior.first_byte_delay)
    record.mark_first_byte()
    return state.behavior, record, body


async def open_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    return response


async def stream_pieces(
    response: web.StreamResponse, record: RequestRecord, behavior: FakeBehavior, pieces: list[str],
    frame: Callable[[str], str], error_frame: Callable[[int], str], default_fail_status: int,
) -> bool:
    """Write one `frame(piece)` per piece, `delay` apart; after `fail_after_chunks` pieces write
    `error_frame(status)` instead. False when the stream ended early (error or client gone)."""
    for index, piece in enumerate(pieces):
        if index and behavior.delay:
            await sleep(behavior.delay)
        if behavior.fail_after_chunks is not None and index >= behavior.fail_after_chunks:
            await sse_write(response, record, error_frame(behavior.fail_status or default_fail_status))
            return False
        record.mark_text()
        if not await sse_write(response, record, frame(piece)):
            return False
    return True


def fail_response(
    record: RequestRecord, status: int, behavior: FakeBehavior, body: dict[str, Any], message: str | None = None
) -> web.Response:
    """The provider's error `body` (its `error.message` replaced by `message`, if given) with
    `status` and, when the behaviour sets one, a retry-after header."""
    if message:
        body["error"]["message"] = message
    headers = {"retry-after": f"{behavior.retry_after:g}"} if behavior.retry_after is not None else None
    record.mark_done(status)
    return web.json_response(body, status=status, headers=headers)


def stream_done(record: RequestRecord, response: web.StreamResponse) -> web.StreamResponse:
    record.mark_done(200)
    return response


async def _control(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        control = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(control, dict):
        return web.json_response({"error": "body must be an object"}, status=400)
    state.behavior.update(control)
    return web.json_response(state.behavior.to_json())


async def _stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"count": len(state.requests), "requests": [r.stats() for r in state.requests]})


async def _requests(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"requests": [r.full() for r in state.requests]})


async def _reset(request: web.Request) -> web.Response:
    request.app[STATE].requests.clear()
    return web.json_response({"ok": True})


def base_app(state: FakeState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app.router.add_post("/_control", _control)
    app.router.add_get("/_stats", _stats)
    app.router.add_get("/_requests", _requests)
    app.router.add_post("/_reset", _reset)
    return app


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeModelServer:
    """A fake provider on 127.0.0.1 (port 0 = any free port), inside the test's event loop.

    `base_url` is what goes into `models.providers.<name>.baseUrl`: the bare origin for the
    Anthropic fake (the SDK adds /v1), `<origin>/v1` for the OpenAI fake.
    """

    def __init__(
        self, kind: Kind, behavior: FakeBehavior | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.kind = kind
        self.state = FakeState(kind, behavior or FakeBehavior())
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def behavior(self) -> FakeBehavior:
        return self.state.behavior

    @property
    def requests(self) -> list[RequestRecord]:
        return self.state.requests

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + ("/v1" if self.kind == "openai" else "")

    def fail_next(self, status: int, times: int = 1, message: str | None = None) -> None:
        self.behavior.update({"fail": status, "times": times, "failMessage": message})

    def make_app(self) -> web.Application:
        if self.kind == "anthropic":
            from tests.fakes.fake_anthropic import make_app
        else:
            from tests.fakes.fake_openai import make_app
        return make_app(self.state)

    async def start(self) -> FakeModelServer:
        self._runner = web.AppRunner(self.make_app(), handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeModelServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def count_tokens(value: Any) -> int:
    """A rough, deterministic token count (4 characters a token) of the text in a request body."""
    if isinstance(value, str):
        return len(value) // 4
    if isinstance(value, dict):
        return sum(count_tokens(v) for k, v in value.items() if k in ("text", "content", "system", "messages"))
    if isinstance(value, list):
        return sum(count_tokens(v) for v in value)
    return 0


def usage_for(behavior: FakeBehavior, body: Any) -> tuple[int, int]:
    """(input, output) tokens reported for a request."""
    prompt = behavior.usage_input if behavior.usage_input is not None else max(1, count_tokens(body))
    output = behavior.usage_output if behavior.usage_output is not None else max(1, len(behavior.full_text()) // 4)
    return prompt, output
