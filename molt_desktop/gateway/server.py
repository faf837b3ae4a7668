"""The gateway server: one aiohttp app serving the WebSocket protocol and HTTP on one port.

Here: the handshake (challenge, connect, hello-ok), request dispatch with scope checks, event
fan-out, ticks, and clean shutdown (shutdown event, close 1012). Not here: what methods do
(gateway/rpc/), who may connect (gateway/auth.py), HTTP endpoints (gateway/http.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import ssl
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from molt_desktop.agent.runtime import AgentUnavailableError, RunRequestError
from molt_desktop.clock import now_ms
from molt_desktop.gateway import http as http_routes
from molt_desktop.gateway.auth import authenticate_connect, hello_auth
from molt_desktop.gateway.connection import Connection, ConnectionInfo
from molt_desktop.gateway.rpc import HANDLERS, EncodedPayload, RpcContext, hello_features
from molt_desktop.gateway.rpc.health import health_summary
from molt_desktop.gateway.state import (
    HANDSHAKE_TIMEOUT_S,
    MAX_BUFFERED_BYTES,
    PRE_AUTH_MAX_BYTES,
    TICK_INTERVAL_MS,
    GatewayState,
)
from molt_desktop.logs import get_logger
from molt_desktop.protocol.frames import (
    CLOSE_POLICY,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    GatewayError,
    dumps,
    parse_frame,
    response_error,
    response_ok,
)
from molt_desktop.protocol.methods import (
    has_scope,
    missing_scope_error,
    required_scope,
    validate_connect_params,
    validate_params,
)

log = get_logger("gateway")

OPEN_METHODS = frozenset({"health"})
STATE_KEY: web.AppKey[GatewayState] = web.AppKey("gateway_state", GatewayState)
SERVER_KEY: web.AppKey["GatewayServer"] = web.AppKey("gateway_server")


def is_loopback_address(host: str | None) -> bool:
    if not host:
        return False
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host == "localhost"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


class GatewayServer:
    """Owns the aiohttp app, the open connections and the periodic tasks."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._warmed = False
        self.scheme = "ws"
        self.bound: list[tuple[str, int]] = []
        self.app = self._make_app()

    # -- app and lifecycle -------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=self.state.max_payload() + 1024)
        app[STATE_KEY] = self.state
        app[SERVER_KEY] = self
        app.router.add_get("/", self._root)
        http_routes.add_routes(app, self.state)
        return app

    async def start(self, host: str | list[str], port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        hosts = [host] if isinstance(host, str) else host
        self.scheme = "wss" if ssl_context is not None else "ws"
        for h in hosts:
            site = web.TCPSite(self._runner, h, port, reuse_address=True, ssl_context=ssl_context)
            await site.start()
            server = site._server  # the asyncio Server, for the real port when port=0
            for sock in getattr(server, "sockets", None) or ():
                addr = sock.getsockname()
                self.bound.append((addr[0], addr[1]))
            if port == 0 and self.bound:
                port = self.bound[0][1]
        self._spawn(self._tick_loop(), "gateway-tick")
        log.info("gateway listening on %s (%s)", ", ".join(f"{h}:{p}" for h, p in self.bound), self.scheme)

    @property
    def port(self) -> int:
        return self.bound[0][1] if self.bound else 0

    async def stop(self, reason: str = "gateway stopping", restart_expected_ms: int | None = None) -> None:
        """Tell every client, close with 1012, then stop listening."""
        if self._stopping:
            return
        self._stopping = True
        payload: dict[str, Any] = {"reason": reason}
        if restart_expected_ms is not None:
            payload["restartExpectedMs"] = restart_expected_ms
        conns = list(self.connections.values())
        for conn in conns:
            if conn.info.authenticated:
                conn.send_event("shutdown", payload)
        await asyncio.gather(
            *(conn.flush_and_close(CLOSE_RESTART, "service restart") for conn in conns), return_exceptions=True
        )
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        log.info("gateway stopped")

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL_MS / 1000)
            ts = now_ms()
            for conn in list(self.connections.values()):
                if conn.info.authenticated:
                    conn.send_event("tick", {"ts": ts})

    # -- events ------------------------------------------------------------------------------

    def publish(self, event: str, payload: dict[str, Any]) -> None:
        """Fan an event out to every connection allowed to see it, and to in-process listeners."""
        for listener in list(self.state.listeners):
            try:
                listener(event, payload)
            except Exception:
                log.exception("event listener failed for %s", event)
        state_version = self.state.state_version() if event in ("presence", "health") else None
        for conn in list(self.connections.values()):
            if not conn.wants(event):
                continue
            adapted = conn.adapt(event, payload)
            if adapted is not None:
                conn.send_event(event, adapted, state_version)

    def _presence_changed(self) -> None:
        self.state.presence_version += 1
        self.publish("presence", {"presence": self.state.presence_list()})

    # -- HTTP root and WebSocket --------------------------------------------------------------

    async def _root(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return http_routes.json_error(404, "Not Found", "not_found")
        return await self._websocket(request)

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        max_payload = self.state.max_payload()
        # aiohttp itself drops frames above twice the limit; between the limit and that we answer
        # with a protocol error first so the client learns why.
        ws = web.WebSocketResponse(max_msg_size=max_payload * 2, autoping=True, compress=False)
        await ws.prepare(request)
        if self._stopping:
            await ws.close(code=CLOSE_RESTART, message=b"service restart")
            return ws
        remote = request.remote or ""
        info = ConnectionInfo(remote=remote, is_loopback=is_loopback_address(remote))
        conn = Connection(ws, info, MAX_BUFFERED_BYTES)
        conn.start()
        self.connections[info.conn_id] = conn
        self.state.metrics.open_connections.inc()
        try:
            if await self._handshake(conn):
                await self._serve(conn)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("connection %s failed", info.conn_id)
        finally:
            self.connections.pop(info.conn_id, None)
            self.state.metrics.open_connections.dec()
            if self.state.presence.pop(info.conn_id, None) is not None and not self._stopping:
                self._presence_changed()
            await conn.finish()
            await conn.stop()
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()
        return ws

    async def _handshake(self, conn: Connection) -> bool:
        nonce = str(uuid.uuid4())
        challenge_ts = now_ms()
        conn.send({"type": "event", "event": "connect.challenge",
                   "payload": {"nonce": nonce, "ts": challenge_ts, "capabilities": []}})
        try:
            msg = await asyncio.wait_for(conn.ws.receive(), HANDSHAKE_TIMEOUT_S)
        except asyncio.TimeoutError:
            conn.close_soon(CLOSE_POLICY, "handshake timeout")
            return False
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            if msg.type == WSMsgType.ERROR:
                conn.close_soon(CLOSE_TOO_BIG, "frame too large")
            return False
        data = msg.data
        req_id = "connect"
        try:
            if len(data) > PRE_AUTH_MAX_BYTES:
                raise GatewayError("INVALID_REQUEST", f"frame too large before connect (max {PRE_AUTH_MAX_BYTES} bytes)",
                                   close_code=CLOSE_TOO_BIG)
            frame = parse_frame(data, max_bytes=PRE_AUTH_MAX_BYTES)
            req_id = frame.id
            if frame.method != "connect":
                raise GatewayError("INVALID_REQUEST", "invalid handshake: first request must be connect",
                                   close_code=CLOSE_POLICY)
            params = validate_connect_params(frame.params)
            auth_cfg = self.state.auth()
            # Pairing files are read and written here: keep that off the event loop.
            loop = asyncio.get_running_loop()

            def pairing_event(event: str, payload: dict[str, Any]) -> None:
                loop.call_soon_threadsafe(self.publish, event, payload)

            result = await asyncio.to_thread(
                authenticate_connect, params, auth=auth_cfg, challenge_nonce=nonce, challenge_ts=challenge_ts,
                remote_addr=conn.info.remote, is_loopback=conn.info.is_loopback,
                pairing=self.state.pairing, limiter=self.state.limiter, now_ms=now_ms(),
                on_event=pairing_event,
            )
        except GatewayError as err:
            reason = str((err.details or {}).get("code", err.code)) if isinstance(err.details, dict) else err.code
            self.state.metrics.auth_failures.labels(reason=reason.lower()).inc()
            conn.send(response_error(req_id, err))
            conn.close_soon(err.close_code or CLOSE_POLICY, err.message)
            return False
        info = conn.info
        info.protocol = result.protocol
        info.role = result.role
        info.scopes = frozenset(result.scopes)
        info.client = dict(params.client)
        info.device_id = result.device_id
        info.auth_method = result.method
        info.connected_ms = now_ms()
        conn.send(response_ok(req_id, self._hello_ok(conn, result)))
        self.state.presence[info.conn_id] = self._presence_entry(conn, params)
        self._presence_changed()
        if not self._warmed and info.client.get("mode") not in ("ui", "probe"):
            # A client is here: load the model client before its first message. A desktop UI
            # sitting in the tray is not about to chat; it warms up when it opens a conversation
            # (chat.history), so the idle app does not hold a provider SDK in memory.
            self._warmed = True
            self._spawn(self.state.runtime.start(), "runtime-warmup")
        # Health probes connect every few seconds: their connects are not worth a line each.
        log.log(logging.DEBUG if info.client.get("mode") == "probe" else logging.INFO,
                "client connected: %s %s/%s protocol %d from %s", info.conn_id, info.client.get("id"),
                info.client.get("mode"), info.protocol, info.remote)
        return True

    def _presence_entry(self, conn: Connection, params: Any) -> dict[str, Any]:
        client = params.client
        entry: dict[str, Any] = {"ts": now_ms(), "reason": "connect", "mode": client.get("mode") or "unknown",
                                 "roles": [conn.info.role], "scopes": sorted(conn.info.scopes)}
        for src, dst in (("displayName", "host"), ("version", "version"), ("platform", "platform"),
                         ("deviceFamily", "deviceFamily"), ("instanceId", "instanceId")):
            if isinstance(client.get(src), str) and client[src]:
                entry[dst] = client[src]
        if conn.info.remote:
            entry["ip"] = conn.info.remote
        if conn.info.device_id:
            entry["deviceId"] = conn.info.device_id
        entry["onlineSince"] = conn.info.connected_ms
        return entry

    def _hello_ok(self, conn: Connection, result: Any) -> dict[str, Any]:
        state = self.state
        methods, events = hello_features(result.protocol)
        features: dict[str, Any] = {"methods": methods, "events": events}
        if result.protocol >= 4:
            features["capabilities"] = []
        snapshot: dict[str, Any] = {
            "presence": state.presence_list(),
            "health": health_summary(state),
            "stateVersion": state.state_version(),
            "uptimeMs": state.uptime_ms,
            "configPath": str(state.config.path),
            "stateDir": str(state.state_dir),
            "sessionDefaults": {"defaultAgentId": "main", "mainKey": "main",
                                "mainSessionKey": "agent:main:main", "scope": "per-sender"},
        }
        hello: dict[str, Any] = {
            "type": "hello-ok",
            "protocol": result.protocol,
            "server": {"version": state.version, "connId": conn.info.conn_id},
            "features": features,
            "snapshot": snapshot,
        }
        auth = hello_auth(result)
        if auth is not None:
            # The official schema has no `method` in hello-ok.auth (2026.9.6 sends it anyway);
            # what we emit validates against the schema.
            auth.pop("method", None)
            hello["auth"] = auth
        hello["policy"] = {"maxPayload": state.max_payload(), "maxBufferedBytes": MAX_BUFFERED_BYTES,
                           "tickIntervalMs": TICK_INTERVAL_MS}
        return hello

    async def _serve(self, conn: Connection) -> None:
        ws = conn.ws
        max_payload = self.state.max_payload()
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                conn.close_soon(CLOSE_TOO_BIG, "frame too large")
                break
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            try:
                frame = parse_frame(msg.data, max_bytes=max_payload)
            except GatewayError as err:
                conn.send(response_error(_best_effort_id(msg.data), err))
                if err.close_code:
                    conn.close_soon(err.close_code, err.message)
                    break
                continue
            task = asyncio.create_task(self._dispatch(conn, frame.id, frame.method, frame.params))
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)

    async def _dispatch(self, conn: Connection, req_id: str, method: str, params: dict[str, Any]) -> None:
        metrics = self.state.metrics
        outcome = "ok"
        try:
            if method == "connect":
                raise GatewayError("INVALID_REQUEST", "connect already completed on this connection")
            # Scope first: an unknown method needs admin, as on OpenClaw, so only an admin learns
            # which methods exist. `health` answers any authenticated client, as OpenClaw does.
            needed = required_scope(method, params)
            if method not in OPEN_METHODS and not has_scope(conn.info.scopes, needed):
                raise missing_scope_error(needed)
            handler = HANDLERS.get(method)
            if handler is None:
                outcome = "unknown"
                raise GatewayError("INVALID_REQUEST", f"unknown method: {method}")
            clean = validate_params(method, params, conn.info.protocol)
            ctx = RpcContext(state=self.state, server=self, conn=conn, request_id=req_id)
            payload = await handler(ctx, clean)
            if isinstance(payload, EncodedPayload):
                conn.send_text(f'{{"type":"res","id":{dumps(req_id)},"ok":true,"payload":{payload.text}}}')
            else:
                conn.send(response_ok(req_id, payload))
        except (GatewayError, RunRequestError, AgentUnavailableError) as exc:
            if outcome == "ok":
                outcome = "error"
            conn.send(response_error(req_id, _as_gateway_error(exc)))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            outcome = "error"
            log.exception("method %s failed", method)
            conn.send(response_error(req_id, GatewayError("UNAVAILABLE", f"{method} failed: internal error")))
        finally:
            metrics.rpc_requests.labels(method=method if method in HANDLERS else "unknown", outcome=outcome).inc()


def _as_gateway_error(exc: Exception) -> GatewayError:
    """A request the runtime refused (bad attachment, stopping) as the error frame it deserves."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, RunRequestError):
        return GatewayError("INVALID_REQUEST", str(exc))
    return GatewayError("UNAVAILABLE", str(exc) or "the gateway is shutting down", retryable=True)


def _best_effort_id(data: Any) -> str:
    """The request id of a frame we could not accept, so the client can match the error."""
    try:
        value = json.loads(data)
    except (ValueError, TypeError):
        return "invalid"
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return str(value["id"])[:256]
    return "invalid"


__all__ = ["GatewayServer", "STATE_KEY", "SERVER_KEY", "is_loopback_address"]
