"""A gateway client over WebSocket: handshake with device identity, calls, events, a dead-link watchdog.

Speaks to the embedded gateway and to real OpenClaw gateways alike (protocol 3 and 4):
- the handshake answers the challenge with `connect` (token or password, the device signature,
  and a device token the gateway issued earlier, from `ClientOptions.device_tokens`);
- `call()` correlates requests by id, tolerating the second `res` of `agent` (`expect_final`);
- events reach `on_event` and every `events()` iterator;
- 2 x `hello.policy.tickIntervalMs` without any frame declares the link dead;
- every error frame becomes a typed exception (client/errors.py, re-exported here).
`Backoff` is the reconnect delay; reconnecting and switching endpoints belong to
client/failover.py, keys and tokens to client/identity.py, certificates to client/tls.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import platform
import random
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from molt_desktop.client.errors import (
    GatewayAuthError,
    GatewayCallError,
    GatewayForbidden,
    GatewayPairingRequired,
    GatewayProtocolMismatch,
    GatewayTlsMismatch,
    GatewayUnreachable,
    gateway_error,
)
from molt_desktop.client.identity import DeviceTokenStore
from molt_desktop.client.tls import (
    FingerprintError,
    check_pin,
    client_ssl_context,
    is_secure_url,
    peer_fingerprint,
)
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.protocol.device import DeviceIdentity, build_auth_payload
from molt_desktop.version import __version__

log = get_logger("client")

ALL_OPERATOR_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.approvals",
                       "operator.pairing"]
DEFAULT_TICK_INTERVAL_MS = 30_000
EventHandler = Callable[[str, dict[str, Any]], None]
Event = tuple[str, dict[str, Any]]
_END: Any = object()


class Backoff:
    """Reconnect delays: `initial` seconds doubling up to `maximum`, each varied by +-`jitter`
    (a fraction), so clients cut off together do not all come back at the same instant."""

    def __init__(self, initial: float = 1.0, maximum: float = 30.0, jitter: float = 0.2,
                 rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial or not 0 <= jitter < 1:
            raise ValueError("Backoff needs 0 < initial <= maximum and 0 <= jitter < 1")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._base = initial

    def next(self) -> float:
        base = self._base
        self._base = min(base * 2, self.maximum)
        delay = base * (1 + self._rng.uniform(-self.jitter, self.jitter))
        return min(delay, self.maximum)

    def reset(self) -> None:
        self._base = self.initial


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
    # For wss://: an SSLContext that trusts the server (our own certificate file), else the
    # system CA store, or the pin below.
    ssl_context: ssl.SSLContext | None = None
    # "sha256:<hex>": accept exactly this server certificate (a self-signed remote gateway).
    tls_fingerprint: str | None = None
    # Where device tokens issued by gateways are kept and found again (None: not kept).
    device_tokens: DeviceTokenStore | None = None


class _EventStream:
    """One `events()` iterator: a queue fed by the connection, ended when the connection closes."""

    def __init__(self, owner: GatewayConnection) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later calls end at once too
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    def push(self, item: Any) -> None:
        self._queue.put_nowait(item)

    async def aclose(self) -> None:
        """Stop receiving (frees the queue of a consumer that stops early)."""
        self._owner._streams.discard(self)
        self._queue.put_nowait(_END)


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
        self._watchdog: asyncio.Task[None] | None = None
        self._streams: set[_EventStream] = set()
        self._dead: GatewayUnreachable | None = None
        self._tls_fingerprint: str | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        # time.monotonic() of the last frame received (any frame: a tick, an event, a reply).
        self.last_frame_at: float | None = None

    @property
    def protocol(self) -> int:
        return int(self.hello.get("protocol", 0))

    @property
    def tls_fingerprint(self) -> str | None:
        """The server certificate's "sha256:<hex>" for wss:// (after connect), else None."""
        return self._tls_fingerprint

    @property
    def tick_interval(self) -> float:
        """Seconds between the gateway's ticks, as its hello announced."""
        policy = self.hello.get("policy")
        value = policy.get("tickIntervalMs") if isinstance(policy, dict) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            value = DEFAULT_TICK_INTERVAL_MS
        return float(value) / 1000.0

    async def __aenter__(self) -> GatewayConnection:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- handshake ------------------------------------------------------------------------------

    async def connect(self) -> dict[str, Any]:
        """Open the link and complete the handshake; returns the hello-ok payload.

        A device token the gateway rejects is forgotten and the handshake tried once more with
        the shared token or password alone.
        """
        opts = self.options
        try:
            context = opts.ssl_context or client_ssl_context(opts.url, opts.tls_fingerprint)
        except FingerprintError as exc:
            raise GatewayUnreachable(f"{opts.url}: tlsFingerprint {exc}") from None
        device_token = await self._stored_device_token()
        try:
            return await self._handshake(context, device_token)
        except GatewayAuthError as exc:
            if not device_token or not self._device_token_refused(exc):
                raise
            log.info("%s refused this device's token (%s): forgetting it", opts.url, exc.detail_code or exc.message)
            await self._forget_device_token()
            if not (opts.token or opts.password):
                raise
        return await self._handshake(context, None)

    @staticmethod
    def _device_token_refused(exc: GatewayAuthError) -> bool:
        # A bad signature or a rate limit says nothing about the token; everything else does.
        code = exc.detail_code or ""
        return not code.startswith("DEVICE_AUTH_") and code not in ("AUTH_RATE_LIMITED", "DEVICE_IDENTITY_REQUIRED")

    async def _handshake(self, context: ssl.SSLContext | None, device_token: str | None) -> dict[str, Any]:
        opts = self.options
        self._session = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(opts.connect_timeout):
                self._ws = await self._session.ws_connect(
                    opts.url, timeout=aiohttp.ClientWSTimeout(ws_close=5), max_msg_size=0, heartbeat=None,
                    ssl=context if context is not None else True)
                if is_secure_url(opts.url):
                    self._tls_fingerprint = peer_fingerprint(self._ws.get_extra_info("ssl_object"))
                check_pin(opts.url, opts.tls_fingerprint, self._tls_fingerprint)
                challenge = await self._receive_frame()
                if challenge.get("event") != "connect.challenge":
                    raise GatewayUnreachable(f"{opts.url} did not send a connect challenge")
                payload = challenge["payload"]
                nonce, ts = str(payload["nonce"]), int(payload["ts"])
                # Protocol-4 gateways list their capabilities in the challenge; only they know
                # `auth.deviceToken` (a protocol-3 gateway rejects unknown connect fields).
                modern = "capabilities" in payload
                await self._ws.send_str(json.dumps({"type": "req", "id": "connect", "method": "connect",
                                                    "params": self._connect_params(nonce, ts, modern, device_token)}))
                while True:
                    frame = await self._receive_frame()
                    if frame.get("type") == "res" and frame.get("id") == "connect":
                        break
        except GatewayUnreachable:
            await self._teardown()
            raise
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            await self._teardown()
            if isinstance(exc, aiohttp.ClientConnectorCertificateError):
                raise GatewayUnreachable(_(
                    "The TLS certificate of {url} is not trusted by this computer ({error}). If it is your own "
                    "gateway's certificate, pin it: set tlsFingerprint to the fingerprint the gateway printed at "
                    "start.").format(url=opts.url, error=exc.certificate_error)) from exc
            raise GatewayUnreachable(f"cannot reach the gateway at {opts.url}: {exc or type(exc).__name__}") from exc
        except (TypeError, ValueError, KeyError) as exc:  # a close or a malformed frame instead of the handshake
            await self._teardown()
            raise GatewayUnreachable(f"the gateway at {opts.url} did not complete the handshake: {exc}") from exc
        except BaseException:
            await self._teardown()
            raise
        if not frame.get("ok"):
            await self._teardown()
            raise gateway_error(frame.get("error"), fallback_message="connect failed")
        self.hello = frame.get("payload") or {}
        await self._keep_device_token(device_token)
        self._reader = asyncio.create_task(self._read_loop(), name="gateway-client-read")
        self._watchdog = asyncio.create_task(self._watch(), name="gateway-client-watchdog")
        return self.hello

    async def _receive_frame(self) -> dict[str, Any]:
        assert self._ws is not None
        msg = await self._ws.receive()
        if msg.type != aiohttp.WSMsgType.TEXT:
            code = self._ws.close_code
            raise GatewayUnreachable(f"the gateway at {self.options.url} closed the connection during the "
                                     f"handshake ({code if code is not None else msg.type.name})")
        self.last_frame_at = time.monotonic()
        frame = json.loads(msg.data)
        if not isinstance(frame, dict):
            raise ValueError("a frame that is not a JSON object")
        return frame

    def _connect_params(self, nonce: str, ts: int, modern: bool, device_token: str | None) -> dict[str, Any]:
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
        if device_token:
            if modern:
                auth["deviceToken"] = device_token
            elif not auth:
                auth["token"] = device_token  # how protocol-3 gateways take a device token
        if auth:
            params["auth"] = auth
        if opts.device is not None:
            signed_token = auth.get("token") or auth.get("deviceToken") or ""
            payload = build_auth_payload("v2", opts.device.device_id, opts.client_id, opts.mode, "operator",
                                         list(opts.scopes), ts, signed_token, nonce)
            params["device"] = {"id": opts.device.device_id, "publicKey": opts.device.public_key_b64url,
                                "signature": opts.device.sign(payload), "signedAt": ts, "nonce": nonce}
        return params

    # --- device tokens (keyring calls can block: they run in a worker thread) --------------------

    async def _stored_device_token(self) -> str | None:
        opts = self.options
        if opts.device_tokens is None or opts.device is None:
            return None
        return await asyncio.to_thread(opts.device_tokens.get, opts.url, opts.device.device_id, "operator")

    async def _keep_device_token(self, sent: str | None) -> None:
        opts = self.options
        auth = self.hello.get("auth")
        issued = auth.get("deviceToken") if isinstance(auth, dict) else None
        if opts.device_tokens is None or opts.device is None or not isinstance(issued, str) or not issued:
            return
        if issued == sent:
            return
        role = str(auth.get("role") or "operator") if isinstance(auth, dict) else "operator"
        try:
            await asyncio.to_thread(opts.device_tokens.save, opts.url, opts.device.device_id, role, issued)
        except Exception as exc:  # the shared secret still works; the token is a convenience
            log.warning("cannot keep the device token from %s: %s", opts.url, exc)

    async def _forget_device_token(self) -> None:
        opts = self.options
        if opts.device_tokens is not None and opts.device is not None:
            await asyncio.to_thread(opts.device_tokens.forget, opts.url, opts.device.device_id, "operator")

    # --- the open link --------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                self.last_frame_at = time.monotonic()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    log.warning("ignoring a frame that is not JSON")
                    continue
                if isinstance(frame, dict):
                    self._route(frame)
        finally:
            self.close_code = self._ws.close_code
            self._mark_closed(self._dead or GatewayUnreachable(f"connection closed ({self.close_code})"))

    def _mark_closed(self, error: GatewayUnreachable) -> None:
        """Fail the calls in flight and end the event iterators (once)."""
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for stream in list(self._streams):
            stream.push(_END)
        self._streams.clear()
        self.closed.set()

    async def _watch(self) -> None:
        """Declare the link dead after 2 x tickIntervalMs without a frame (a hung gateway or network)."""
        limit = 2 * self.tick_interval
        while not self.closed.is_set():
            last = self.last_frame_at or time.monotonic()
            remaining = last + limit - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            silence = time.monotonic() - last
            self._dead = GatewayUnreachable(f"no frame for {silence:.1f} s from {self.options.url}: "
                                            f"the link is dead")
            log.warning("%s", self._dead)
            self._mark_closed(self._dead)
            if self._ws is not None:
                # The peer will not answer a close handshake; do not wait for it.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._ws.close(), 0.2)
            return

    def _route(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "res":
            req_id = str(frame.get("id"))
            future = self._pending.pop(req_id, None)
            if future is not None and not future.done():
                future.set_result(frame)
            elif req_id in self._extra:
                self._extra[req_id].put_nowait(frame)
        elif kind == "event":
            event = str(frame.get("event"))
            raw = frame.get("payload")
            payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if self.on_event is not None:
                try:
                    self.on_event(event, payload)
                except Exception:
                    log.exception("event handler failed")
            for stream in self._streams:
                stream.push((event, payload))

    def events(self) -> AsyncIterator[Event]:
        """`(event, payload)` for every event from now on; the iteration ends when the link closes."""
        stream = _EventStream(self)
        if self.closed.is_set() or self._ws is None:
            stream.push(_END)
        else:
            self._streams.add(stream)
        return stream

    async def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0,
                   expect_final: bool = False) -> Any:
        """Send a request and return its payload; `expect_final` waits for a second `res` (agent)."""
        if self._ws is None or self._ws.closed or self.closed.is_set():
            raise self._dead or GatewayUnreachable("not connected")
        req_id = f"r{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        if expect_final:
            self._extra[req_id] = asyncio.Queue()
        try:
            try:
                await self._ws.send_str(json.dumps({"type": "req", "id": req_id, "method": method,
                                                    "params": params or {}}, ensure_ascii=False))
            except (aiohttp.ClientError, ConnectionError) as exc:
                raise self._dead or GatewayUnreachable(f"connection lost: {exc}") from exc
            frame = await asyncio.wait_for(future, timeout)
            if expect_final and frame.get("ok"):
                frame = await self._final(req_id, timeout)
        finally:
            self._pending.pop(req_id, None)
            self._extra.pop(req_id, None)
        if not frame.get("ok"):
            raise gateway_error(frame.get("error"))
        return frame.get("payload")

    async def _final(self, req_id: str, timeout: float) -> dict[str, Any]:
        """The second `res` of `agent`, or GatewayUnreachable if the link closes first."""
        getter = asyncio.ensure_future(self._extra[req_id].get())
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _pending = await asyncio.wait({getter, closed}, timeout=timeout,
                                                return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not getter.done():
                getter.cancel()
        if getter in done:
            return getter.result()
        if closed in done:
            raise self._dead or GatewayUnreachable(f"connection closed ({self.close_code})")
        raise TimeoutError

    async def close(self) -> None:
        await self._teardown()

    async def _teardown(self) -> None:
        if self._watchdog is not None and not self._watchdog.done():
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                # A dead peer never answers the close handshake: do not wait for it long.
                await asyncio.wait_for(self._ws.close(), 0.2 if self._dead is not None else 5)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 2)
        if self._session is not None:
            await self._session.close()
            self._session = None


__all__ = [
    "ALL_OPERATOR_SCOPES",
    "Backoff",
    "ClientOptions",
    "GatewayAuthError",
    "GatewayCallError",
    "GatewayConnection",
    "GatewayForbidden",
    "GatewayPairingRequired",
    "GatewayProtocolMismatch",
    "GatewayTlsMismatch",
    "GatewayUnreachable",
    "gateway_error",
]
