"""One-shot calls to a gateway from this machine (`molt-desktop call`), with local credentials.

The URL, token and password default to what this state dir's config and keyring hold, so
`molt-desktop call health` just works against the local gateway. This installation's device
identity (client/identity.py) signs the handshake, which a remote gateway needs for scopes, and
the device token a gateway issues is kept for the next call (unless credentials were given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.client.connection import ClientOptions, GatewayConnection
from molt_desktop.client.identity import DeviceTokenStore, load_device_identity
from molt_desktop.config.manager import ConfigManager
from molt_desktop.gateway.tokens import GatewayAuthResolver


async def call_local_gateway(state: Path, method: str, params: dict[str, Any], *, url: str | None = None,
                             token: str | None = None, password: str | None = None, timeout: float = 30.0,
                             expect_final: bool = False) -> Any:
    config = ConfigManager(paths.config_path(state))
    if url is None:
        url = f"ws://127.0.0.1:{int(config.current.config.gateway.port)}"
    # Credentials given on the command line are what the user wants to try: a device token kept
    # from earlier would get in without them and hide a wrong --token.
    explicit = token is not None or password is not None
    if not explicit:
        auth = GatewayAuthResolver(config, generate=False).resolve()
        token, password = auth.token, auth.password
    options = ClientOptions(url=url, token=token, password=password, device=load_device_identity(state),
                            device_tokens=None if explicit else DeviceTokenStore(state))
    async with GatewayConnection(options) as conn:
        return await conn.call(method, params, timeout=timeout, expect_final=expect_final or method == "agent")


__all__ = ["call_local_gateway", "load_device_identity"]
