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


async def _resolve(ctx: RpcContext, request_id: str, decision: str) -> dict[str, Any]:
    """Approve or reject a pending request, and tell the operators who can see pairing."""
    action = ctx.state.pairing.approve if decision == "approved" else ctx.state.pairing.reject
    try:
        device = await asyncio.to_thread(action, request_id)
    except KeyError:
        raise GatewayError("INVALID_REQUEST", f"unknown pairing request: {request_id}") from None
    ctx.server.publish("device.pair.resolved", {"requestId": request_id, "deviceId": device.get("deviceId"),
                                                "decision": decision, "ts": now_ms()})
    return device


async def pair_approve(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    device = await _resolve(ctx, params["requestId"], "approved")
    return {"requestId": params["requestId"], "device": device}


async def pair_reject(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    await _resolve(ctx, params["requestId"], "rejected")
    return {"requestId": params["requestId"], "rejected": True}


HANDLERS: dict[str, Handler] = {
    "device.pair.list": pair_list,
    "device.pair.approve": pair_approve,
    "device.pair.reject": pair_reject,
}
