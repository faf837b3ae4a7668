"""Run methods: `chat.send`, `chat.abort`, `agent` and `agent.wait`, delegated to the runtime.

The runtime streams output as `chat`/`agent` events through the gateway's publish(); these
handlers only start, stop and wait for runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from molt_desktop.paths import DEFAULT_AGENT_ID
from molt_desktop.protocol.frames import GatewayError

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext


async def chat_send(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return await ctx.state.runtime.send(
        params["sessionKey"],
        params["message"],
        params["idempotencyKey"],
        attachments=params.get("attachments"),
        thinking=params.get("thinking"),
        timeout_ms=params.get("timeoutMs"),
    )


async def chat_abort(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    run_ids = await ctx.state.runtime.abort(params["sessionKey"], params.get("runId"))
    return {"ok": True, "aborted": bool(run_ids), "runIds": run_ids}


async def agent(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    """Two responses with one id: `accepted` at once, the result when the run ends."""
    agent_id = params.get("agentId") or DEFAULT_AGENT_ID
    session_key = params.get("sessionKey") or f"agent:{agent_id}:main"
    timeout = params.get("timeout")
    accepted, done = await ctx.state.runtime.run_agent(
        params["message"], params["idempotencyKey"], session_key,
        timeout_ms=int(timeout * 1000) if isinstance(timeout, (int, float)) and timeout > 0 else None,
    )
    ctx.respond_early(accepted)
    result = await done
    if result.get("status") == "error":
        raise GatewayError("UNAVAILABLE", str(result.get("summary") or "the run failed"),
                           details={"runId": result.get("runId")})
    return result


async def agent_wait(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    timeout_ms = params.get("timeoutMs")
    return await ctx.state.runtime.wait(params["runId"], int(timeout_ms) if timeout_ms is not None else 30_000)


HANDLERS: dict[str, Handler] = {
    "chat.send": chat_send,
    "chat.abort": chat_abort,
    "agent": agent,
    "agent.wait": agent_wait,
}

