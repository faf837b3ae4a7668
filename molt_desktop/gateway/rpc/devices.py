"""`device.pair.list`, `device.pair.approve`, `device.pair.reject` over the pairing store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from molt_desktop.clock import now_ms
from molt_desktop.protocol.frames import GatewayError

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext


async def pair_list(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(ctx.state.pairing.list)


async def pair_approve(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    request_id = params["requestId"]
    try:
        device = await asyncio.to_thread(ctx.state.pairing.approve, request_id)
    except KeyError:
        raise GatewayError("INVALID_REQUEST", f"unknown pairing request: {request_id}") from None
    ctx.server.publish("device.pair.resolved", {"requestId": request_id, "deviceId": device.get("deviceId"),
                                                "decision": "approved", "ts": now_ms()})
    return {"requestId": request_id, "device": device}


async def pair_reject(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    request_id = params["requestId"]
    try:
        rejected = await asyncio.to_thread(ctx.state.pairing.reject, request_id)
    except KeyError:
        raise GatewayError("INVALID_REQUEST", f"unknown pairing request: {request_id}") from None
    ctx.server.publish("device.pair.resolved", {"requestId": request_id, "deviceId": rejected.get("deviceId"),
                                                "decision": "rejected", "ts": now_ms()})
    return {"requestId": request_id, "rejected": True}


HANDLERS: dict[str, Handler] = {
    "device.pair.list": pair_list,
    "device.pair.approve": pair_approve,
    "device.pair.reject": pair_reject,
}
