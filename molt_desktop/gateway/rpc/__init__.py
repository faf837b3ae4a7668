"""RPC method handlers of the gateway, one module per method family, and the method table.

A handler is `async def handler(ctx: RpcContext, params: dict) -> dict`: params arrive validated
(protocol/methods.py) and scope-checked (server.py); the returned dict is the `res` payload and a
raised `GatewayError` becomes the error frame.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from molt_desktop.protocol.frames import response_ok
from molt_desktop.protocol.methods import events_for

if TYPE_CHECKING:
    from molt_desktop.gateway.connection import Connection
    from molt_desktop.gateway.server import GatewayServer
    from molt_desktop.gateway.state import GatewayState


@dataclass
class RpcContext:
    state: GatewayState
    server: GatewayServer
    conn: Connection
    request_id: str

    def respond_early(self, payload: dict[str, Any]) -> None:
        """Send a `res` for this request before the handler returns (the `agent` method's ack)."""
        self.conn.send(response_ok(self.request_id, payload))


@dataclass(frozen=True)
class EncodedPayload:
    """A result already encoded as JSON text, sent as it is (large results encoded once)."""

    text: str


Handler = Callable[[RpcContext, dict[str, Any]], Awaitable[Any]]


def _load() -> dict[str, Handler]:
    from molt_desktop.gateway.rpc import chat, config, continuity, devices, health, models, sessions, system

    table: dict[str, Handler] = {}
    for module in (health, system, models, sessions, chat, config, devices, continuity):
        table.update(module.HANDLERS)
    return table


HANDLERS: dict[str, Handler] = _load()

def hello_features(protocol: int) -> tuple[list[str], list[str]]:
    """The methods and events announced in hello-ok."""
    return list(HANDLERS), events_for(protocol)
