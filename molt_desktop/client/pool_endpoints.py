"""The endpoints of a config: the local gateway first, then `remotes` in order.

`config_endpoints(state_dir, config)` gives the `Endpoint`s the pool connects to. Options are
built at every connect, so a token changed in the keyring or a remote edited in Settings is used
the next time. Remotes sign in as `gateway-client`/`ui` with this install's device identity and
reuse the device token their gateway issued. `store_history(state_dir)` reads a session's recent
messages from the local transcripts (for seeding a remote when the local gateway is dead).

Not here: connecting (connection.py), choosing endpoints (failover.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from molt_desktop.client.connection import ClientOptions
from molt_desktop.client.identity import DeviceTokenStore, load_device_identity
from molt_desktop.client.pool_link import Endpoint
from molt_desktop.config.manager import ConfigManager
from molt_desktop.config.secrets import resolve_secret
from molt_desktop.gateway.tokens import GatewayAuthResolver
from molt_desktop.logs import get_logger

log = get_logger("client.pool")

CLIENT_ID = "gateway-client"
CLIENT_MODE = "ui"


def local_url(config: Any) -> str:
    gateway = config.gateway
    scheme = "wss" if gateway.tls.active else "ws"
    return f"{scheme}://127.0.0.1:{int(gateway.port)}"


def local_cert_fingerprint(state_dir: Path, config: Any) -> str | None:
    """The local gateway's own certificate, pinned (it is self-signed or names another host)."""
    from molt_desktop.gateway.tls import CERT_FILE, certificate_fingerprint, tls_dir

    tls = config.gateway.tls
    path = Path(os.path.expanduser(tls.cert_file)) if tls.cert_file else tls_dir(Path(state_dir)) / CERT_FILE
    try:
        return certificate_fingerprint(path.read_bytes())
    except (OSError, ValueError) as exc:
        log.warning("cannot read the local gateway's certificate %s: %s", path, exc)
        return None


def config_endpoints(state_dir: Path, manager: ConfigManager, *,
                     local_options: Callable[[], ClientOptions] | None = None) -> list[Endpoint]:
    """`manager` is the state dir's ConfigManager; the local token is resolved as the gateway does."""
    tokens = DeviceTokenStore(state_dir)
    device_cache: list[Any] = []
    resolver = GatewayAuthResolver(manager, generate=False)

    def device() -> Any:
        if not device_cache:
            device_cache.append(load_device_identity(state_dir))
        return device_cache[0]

    def local() -> ClientOptions:
        current = manager.current.config
        auth = resolver.current()
        url = local_url(current)
        pin = local_cert_fingerprint(state_dir, current) if url.startswith("wss:") else None
        return ClientOptions(url=url, token=auth.token, password=auth.password, device=device(),
                             client_id=CLIENT_ID, mode=CLIENT_MODE, tls_fingerprint=pin, device_tokens=tokens)

    endpoints = [Endpoint("local", "local", local_options or local)]
    for remote in manager.current.config.remotes:
        endpoints.append(Endpoint(remote.id, "remote", remote_options(remote, device, tokens)))
    return endpoints


def remote_options(remote: Any, device: Callable[[], Any], tokens: DeviceTokenStore) -> Callable[[], ClientOptions]:
    def options() -> ClientOptions:
        return ClientOptions(url=remote.url, token=resolve_secret(remote.token),
                             password=resolve_secret(remote.password), device=device(), client_id=CLIENT_ID,
                             mode=CLIENT_MODE, tls_fingerprint=remote.tlsFingerprint, device_tokens=tokens)
    return options


def store_history(state_dir: Path) -> Callable[[str, int], list[dict[str, Any]]]:
    """Recent messages of a session straight from the local transcripts (read only)."""
    stores: list[Any] = []

    def history(session_key: str, limit: int) -> list[dict[str, Any]]:
        from molt_desktop.sessions.store import SessionStore

        if not stores:
            stores.append(SessionStore(state_dir))
        return list(stores[0].history(session_key, limit).messages)

    return history
