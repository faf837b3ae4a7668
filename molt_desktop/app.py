"""The composition root: builds the services and starts them in one written-down order.

Order: config -> store -> agent -> gateway -> endpoint pool -> monitor -> sync, then the UI,
each with `start()`/`stop()`, stopped in reverse. `molt-desktop gateway` runs these services
without the pool and the UI; the desktop app (ui/qt_app.py) adds the Qt layer on top and talks
to the gateway only through the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import signal
import ssl
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.agent.runtime import AgentRuntime
from molt_desktop.client.connection import ClientOptions
from molt_desktop.client.failover import EndpointPool, build_pool
from molt_desktop.client.identity import load_device_identity
from molt_desktop.client.tls import client_ssl_context
from molt_desktop.config.load import ConfigError
from molt_desktop.config.manager import ConfigManager, config_changed_payload
from molt_desktop.gateway.metrics import GatewayMetrics
from molt_desktop.gateway.pairing import PairingStore
from molt_desktop.gateway.ratelimit import AuthRateLimiter
from molt_desktop.gateway.rpc.sessions import changed_payload, warm_session_list
from molt_desktop.gateway.server import GatewayServer
from molt_desktop.gateway.state import GatewayState
from molt_desktop.gateway.tls import TlsConfigError, server_tls
from molt_desktop.gateway.tokens import GatewayAuthResolver, has_secret
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.monitor.service import Monitor
from molt_desktop.preset import apply_first_start_preset
from molt_desktop.sessions.store import SessionStore
from molt_desktop.sync.service import SyncService
from molt_desktop.sync.synced import SyncedSession, fork_synced

log = get_logger("app")


class StartupError(Exception):
    """The app cannot start; the message says why and what to do."""


class PortInUseError(StartupError):
    """Something else listens on the gateway port (the desktop app offers to pick another)."""

    def __init__(self, message: str, host: str, port: int) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


@dataclass
class GatewayOptions:
    port: int | None = None
    bind: str | None = None


def bind_hosts(bind: str) -> list[str]:
    """Listen addresses for a `gateway.bind` value."""
    value = bind.strip().lower()
    if value in ("loopback", "localhost"):
        return ["127.0.0.1"]
    if value in ("lan", "all", "0.0.0.0", "*"):
        return ["0.0.0.0"]
    return [bind.strip()]


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int) -> None:
    """Fail early with a clear message when something already listens on the port."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                raise PortInUseError(
                    _("Port {port} on {host} is already in use (is another gateway running?). "
                      "Stop it, or start this one with --port <other port>.").format(port=port, host=host),
                    host, port) from None
            raise StartupError(_("Cannot listen on {host}:{port}: {error}").format(
                host=host, port=port, error=exc.strerror or exc)) from None


class Services:
    """Everything the app runs, built once and started in order."""

    def __init__(self, state_dir: Path, options: GatewayOptions | None = None, *, with_client: bool = False) -> None:
        self.state_dir = state_dir
        self.options = options or GatewayOptions()
        self.with_client = with_client
        self.pool: EndpointPool | None = None
        self.monitor: Monitor | None = None
        self.sync: SyncService | None = None
        apply_first_start_preset(state_dir)  # an installer's preset fills a config that does not exist yet
        self.config = ConfigManager(paths.config_path(state_dir))
        self.store: SessionStore | None = None
        self.runtime: AgentRuntime | None = None
        self.gateway: GatewayServer | None = None
        self.auth_resolver: GatewayAuthResolver | None = None
        self._config_unsubscribe: Any = None
        self._errors_unsubscribe: Any = None
        self._warm_list: asyncio.Task[None] | None = None
        self._device: Any = None
        self._remotes: Any = None
        self.tls_fingerprint: str | None = None  # "sha256:<hex>" of the certificate the gateway serves

    @property
    def port(self) -> int:
        return self.gateway.port if self.gateway is not None else 0

    def _hosts(self) -> list[str]:
        if self.options.bind:
            return bind_hosts(self.options.bind)
        return [self.config.current.config.gateway.bind_host()]

    def _port(self) -> int:
        return self.options.port if self.options.port is not None else int(self.config.current.config.gateway.port)

    async def start(self) -> None:
        log.info("starting: config (%s)", self.config.path)
        await self.config.start(asyncio.get_running_loop())
        hosts, port = self._hosts(), self._port()
        bind = ",".join(hosts)
        for host in hosts:
            check_port_free(host, port)
        self.auth_resolver = GatewayAuthResolver(self.config)
        auth = self.auth_resolver.current()
        # A token made up for this run only (no keyring) is known to nobody: it does not count.
        if not all(is_loopback_host(h) for h in hosts) and (not has_secret(auth) or self.auth_resolver.ephemeral):
            raise StartupError(
                _("Refusing to listen on {bind} without a gateway secret: anyone on the network could use it. "
                  "Set gateway.auth.token (or gateway.auth.mode \"password\" with gateway.auth.password) in "
                  "{path}, or set MOLT_DESKTOP_GATEWAY_TOKEN, or use --bind loopback.").format(
                    bind=bind, path=self.config.path)
            )
        for warning in self.auth_resolver.warnings:
            log.warning("%s", warning)

        log.info("starting: session store (%s)", self.state_dir)
        self.store = SessionStore(self.state_dir)

        log.info("starting: agent runtime")
        server_ref: list[GatewayServer] = []

        def emit(event: str, payload: dict[str, Any]) -> None:
            if server_ref:
                server_ref[0].publish(event, payload)

        # The runtime warms its model client when the first client connects (gateway), so an
        # idle gateway does not hold a provider SDK in memory.
        self.runtime = AgentRuntime.from_config(self.store, self.config, emit)

        log.info("starting: gateway on %s:%d", ",".join(hosts), port)
        metrics = GatewayMetrics()
        state = GatewayState(
            state_dir=self.state_dir, config=self.config, store=self.store, runtime=self.runtime,
            pairing=PairingStore(paths.devices_dir(self.state_dir)), limiter=AuthRateLimiter(),
            metrics=metrics, auth=self.auth_resolver.current,
        )
        state.add_listener(metrics.observe_event)
        self.gateway = GatewayServer(state)
        server_ref.append(self.gateway)
        self._config_unsubscribe = self.config.subscribe(self._config_changed)
        self._errors_unsubscribe = self.config.subscribe_errors(self._config_error)
        await self.gateway.start(hosts, port, self._tls_context())
        self._warm_list = asyncio.create_task(asyncio.to_thread(warm_session_list, self.store))
        if self.with_client:
            log.info("starting: endpoint pool")
            store = self.store
            self.pool = build_pool(self.state_dir, self.config, local_options=self._local_client_options,
                                   local_history=lambda key, limit: list(store.history(key, limit).messages))
            self._remotes = self._remote_settings()
            await self.pool.start()
        log.info("starting: monitor")
        self.monitor = Monitor(self.state_dir, self.config, pool=self.pool, gateway_state=self.gateway.state,
                               local_probe=self._local_probe, desktop=self.with_client)
        await self.monitor.start()
        log.info("starting: sync")
        self.sync = SyncService(self.state_dir, self.config)
        sync = self.sync
        self.monitor.set_sync_source(lambda: sync.status)
        await self.sync.start()
        for problem in self.runtime.readiness_problems():
            log.warning(_("Chats cannot get replies yet: {problem}. Add a provider under models.providers and "
                          "set agents.defaults.model.primary in {path}.").format(problem=problem,
                                                                                  path=self.config.path))

    async def fork_synced(self, session: SyncedSession) -> str:
        """Continue another device's synced session here: a new local session, announced to every
        client of the gateway (`sessions.changed`, reason "create") like any other new session."""
        if self.store is None or self.gateway is None:
            raise StartupError(_("The session store is not running."))
        store = self.store
        key = await asyncio.to_thread(fork_synced, store, self.state_dir, session)
        self.gateway.publish("sessions.changed", changed_payload(key, "create", store.get(key)))
        return key

    def _local_client_options(self) -> ClientOptions:
        """How this app's own UI connects to the embedded gateway (read at every connect)."""
        assert self.auth_resolver is not None
        auth = self.auth_resolver.current()
        scheme = self.gateway.scheme if self.gateway is not None else "ws"
        pin = self.tls_fingerprint if scheme == "wss" else None  # our own certificate, whatever its names
        if self._device is None:
            self._device = load_device_identity(self.state_dir)
        host = self._hosts()[0]
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
        return ClientOptions(url=f"{scheme}://{host}:{self.port}", token=auth.token, password=auth.password,
                             device=self._device, client_id="gateway-client", mode="ui",
                             display_name="molt-desktop", tls_fingerprint=pin)

    def _local_probe(self) -> tuple[str, ClientOptions | None, Any]:
        """How the monitor checks this gateway: `/readyz`; `health` over the protocol comes from the
        endpoint pool's own probe of it (desktop app). A headless gateway does not connect to
        itself: it would count in its own metrics, rate limits and pairing requests."""
        options = self._local_client_options()
        http = options.url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        return http, None, client_ssl_context(options.url, options.tls_fingerprint)

    def _config_changed(self, loaded: Any) -> None:
        """Runs on the loop thread for file edits and `config.patch` alike."""
        if self.gateway is not None:
            self.gateway.publish("config.changed", config_changed_payload(loaded))
        if self.pool is not None and self._remote_settings() != self._remotes:
            from molt_desktop.client.pool_endpoints import config_endpoints

            self._remotes = self._remote_settings()
            self.pool.set_endpoints(config_endpoints(self.state_dir, self.config,
                                                     local_options=self._local_client_options))

    def _remote_settings(self) -> Any:
        return [r.model_dump() for r in self.config.current.config.remotes]

    def _tls_context(self) -> ssl.SSLContext | None:
        """`gateway.tls`: serve HTTPS/WSS with the configured or generated certificate, or say what is wrong."""
        try:
            served = server_tls(self.config.current.config.gateway.tls, self.state_dir)
        except TlsConfigError as exc:
            raise StartupError(str(exc)) from None
        self.tls_fingerprint = served.fingerprint if served is not None else None
        return served.context if served is not None else None

    def _config_error(self, error: Any) -> None:
        """An invalid edit (or its fix): clients see it in a fresh `health` event."""
        if self.gateway is not None:
            from molt_desktop.gateway.rpc.health import health_summary

            state = self.gateway.state
            state.health_version += 1
            self.gateway.publish("health", health_summary(state, with_config=True))

    async def stop(self) -> None:
        """Reverse order: sync, monitor, pool, gateway (shutdown event, close 1012), runtime, store, config."""
        if self.sync is not None:
            log.info("stopping: sync")
            await self.sync.stop()
        if self.monitor is not None:
            log.info("stopping: monitor")
            await self.monitor.stop()
        if self.pool is not None:
            log.info("stopping: endpoint pool")
            await self.pool.stop()
        if self._warm_list is not None:
            await asyncio.gather(self._warm_list, return_exceptions=True)
        if self.gateway is not None:
            log.info("stopping: gateway")
            await self.gateway.stop()
        if self.runtime is not None:
            log.info("stopping: agent runtime")
            await self.runtime.stop()
        if self.store is not None:
            log.info("stopping: session store")
            self.store.close()
        for unsubscribe in (self._config_unsubscribe, self._errors_unsubscribe):
            if unsubscribe is not None:
                with contextlib.suppress(Exception):
                    unsubscribe()
        log.info("stopping: config")
        await self.config.stop()


async def run_headless(state_dir: Path, options: GatewayOptions) -> int:
    """Run the services without a UI until SIGINT/SIGTERM."""
    try:
        services = Services(state_dir, options)
    except ConfigError as exc:
        log.error("%s", _("Cannot start: the config is invalid: {error}").format(error=exc))
        return 1
    try:
        await services.start()
    except (StartupError, ConfigError) as exc:
        log.error("%s", exc)
        await services.stop()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    host = services._hosts()[0]
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    scheme = services.gateway.scheme if services.gateway is not None else "ws"
    log.info("gateway ready on %s://%s:%d (state dir %s)", scheme, shown, services.port, state_dir)
    if services.tls_fingerprint is not None:
        log.info("%s", _("TLS certificate fingerprint: {fingerprint} (pin it on clients as tlsFingerprint)").format(
            fingerprint=services.tls_fingerprint))
    try:
        await stop.wait()
    finally:
        await services.stop()
    return 0


__all__ = ["Services", "GatewayOptions", "PortInUseError", "StartupError", "run_headless"]
