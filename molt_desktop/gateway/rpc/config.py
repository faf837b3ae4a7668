"""`config.get` and `config.patch`, on top of the config manager (which owns the file)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from molt_desktop.config.manager import ConfigPatchError
from molt_desktop.protocol.frames import GatewayError

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext


async def config_get(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return ctx.state.config.get_payload()


async def config_patch(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    manager = ctx.state.config
    try:
        result = await asyncio.to_thread(manager.patch, params["raw"], params.get("baseHash"))
    except ConfigPatchError as exc:
        raise GatewayError(exc.code, str(exc), details=exc.details) from exc
    return result  # `config.changed` goes out from the manager's subscription (also for file edits)


HANDLERS: dict[str, Handler] = {"config.get": config_get, "config.patch": config_patch}
