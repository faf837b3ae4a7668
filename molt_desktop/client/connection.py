"""A gateway client over WebSocket: handshake with device identity, calls, and events.

Speaks to the embedded gateway and to real OpenClaw gateways alike (protocol 3 and 4).
Reconnection and endpoint switching belong to client/failover.py, not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import platform
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from molt_desktop.logs import get_logger
from molt_desktop.protocol.device import DeviceIdentity, build_auth_payload
from molt_desktop.version import __version__

log = get_logger("client")

ALL_OPERATOR_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals",
                       "operator.pairing"]
EventHandler = Callable[[str, dict[str, Any]], None]


class GatewayCallError(Exception):
    """The gateway answered a request (or the handshake) with an error frame."""

    def __init__(self, code: str, message: str, details: Any = None, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        self.retryable = retryable


class GatewayUnreachable(Exception):
    """No gateway answered at the URL (refused, timed out, closed during the handshake)."""


@dataclass
class ClientOptions:
    url: str
    token: str | None = None
    password: str | None = None
    device: DeviceIdentity | None = None
    client_id: str = "cli"
    mode: str = "cli"
    display_name: str = "molt-desktop"
    scopes: list[str] = field(default_factory=lambda: list(ALL_OPERATOR_SCOPES))
    min_protocol: int = 3
    max_protocol: int = 4
    connect_timeout: float = 10.0
    # For wss://: an SSLContext that trusts the server (a self-signed gateway), else the system's.
    ssl_context: ssl.SSLContext | None = None


class GatewayConnection:
    def __init__(self, options: ClientOptions, on_event: EventHandler | None = None) -> None:
        self.options = options
        self.on_event = on_event
        self.hello: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._extra: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    @property
    def protocol(self) -> int:
        return int(self.hello.get("protocol", 0))

    async def __aenter__(self) -> GatewayConnection:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> dict[str, Any]:
        opts = self.options
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(opts.url, timeout=aiohttp.ClientWSTimeout(ws_close=5),
                                                      max_msg_size=0, heartbeat=None,
                                                      ssl=opts.ssl_context if opts.ssl_context is not None else True)
            challenge = await asyncio.wait_for(self._ws.receive_json(), opts.connect_timeout)
            if challenge.get("event") != "connect.challenge":
                raise GatewayUnreachable(f"{opts.url} did not send a connect challenge")
            nonce = challenge["payload"]["nonce"]
            ts = int(challenge["payload"]["ts"])
            await self._ws.send_str(json.dumps({"type": "req", "id": "connect", "method": "connect",
                                                "params": self._connect_params(nonce, ts)}))
            reply = await asyncio.wait_for(self._ws.receive(), opts.connect_timeout)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            await self._teardown()
            raise GatewayUnreachable(f"cannot reach the gateway at {opts.url}: {exc or type(exc).__name__}") from exc
        except (TypeError, ValueError, KeyError) as exc:  # a close or a non-JSON frame instead of the challenge
            await self._teardown()
            raise GatewayUnreachable(f"the gateway at {opts.url} did not complete the handshake: {exc}") from exc
        except BaseException:
            await self._teardown()
            raise
        if reply.type != aiohttp.WSMsgType.TEXT:
            await self._teardown()
            raise GatewayUnreachable(f"the gateway at {opts.url} closed the connection during the handshake")
        frame = json.loads(reply.data)
        if not frame.get("ok"):
            await self._teardown()
            err = frame.get("error") or {}
            raise GatewayCallError(err.get("code", "UNAVAILABLE"), err.get("message", "connect failed"),
                                   err.get("details"), bool(err.get("retryable")))
        self.hello = frame.get("payload") or {}
        self._reader = asyncio.create_task(self._read_loop(), name="gateway-client-read")
        return self.hello

    def _connect_params(self, nonce: str, ts: int) -> dict[str, Any]:
        opts = self.options
        params: dict[str, Any] = {
            "minProtocol": opts.min_protocol, "maxProtocol": opts.max_protocol,
            "client": {"id": opts.client_id, "displayName": opts.display_name, "version": __version__,
                       "platform": sys.platform, "mode": opts.mode},
            "role": "operator", "scopes": list(opts.scopes), "caps": [],
            "userAgent": f"molt-desktop/{__version__} ({platform.system()})",
        }
        auth: dict[str, str] = {}
        if opts.token:
            auth["token"] = opts.token
        if opts.password:
            auth["password"] = opts.password
        if auth:
            params["auth"] = auth
        if opts.device is not None:
            payload = build_auth_payload("v2", opts.device.device_id, opts.client_id, opts.mode, "operator",
                                         list(opts.scopes), ts, opts.token or "", nonce)
            params["device"] = {"id": opts.device.device_id, "publicKey": opts.device.public_key_b64url,
                                "signature": opts.device.sign(payload), "signedAt": ts, "nonce": nonce}
        return params

    async def _read_loop(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    log.warning("ignoring a frame that is not JSON")
                    continue
                self._route(frame)
        finally:
            self.close_code = self._ws.close_code
            error = GatewayUnreachable(f"connection closed ({self.close_code})")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()
            self.closed.set()

    def _route(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "res":
            req_id = str(frame.get("id"))
            future = self._pending.pop(req_id, None)
            if future is not None and not future.done():
                future.set_result(frame)
            elif req_id in self._extra:
                self._extra[req_id].put_nowait(frame)
        elif kind == "event" and self.on_event is not None:
            try:
                self.on_event(str(frame.get("event")), frame.get("payload") or {})
            except Exception:
                log.exception("event handler failed")

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0,
                   expect_final: bool = False) -> Any:
        """Send a request and return its payload; `expect_final` waits for a second `res` (agent)."""
        if self._ws is None or self._ws.closed:
            raise GatewayUnreachable("not connected")
        req_id = f"r{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        if expect_final:
            self._extra[req_id] = asyncio.Queue()
        try:
            await self._ws.send_str(json.dumps({"type": "req", "id": req_id, "method": method,
                                                "params": params or {}}, ensure_ascii=False))
            frame = await asyncio.wait_for(future, timeout)
            if expect_final and frame.get("ok"):
                frame = await asyncio.wait_for(self._extra[req_id].get(), timeout)
        finally:
            self._pending.pop(req_id, None)
            self._extra.pop(req_id, None)
        if not frame.get("ok"):
            err = frame.get("error") or {}
            raise GatewayCallError(err.get("code", "UNAVAILABLE"), err.get("message", "request failed"),
                                   err.get("details"), bool(err.get("retryable")))
        return frame.get("payload")

    async def close(self) -> None:
        await self._teardown()

    async def _teardown(self) -> None:
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 2)
        if self._session is not None:
            await self._session.close()
            self._session = None
