"""`health`, `status` and `system-presence`: what the gateway says about itself."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

import psutil

from molt_desktop.clock import monotonic, now_ms
from molt_desktop.paths import DEFAULT_AGENT_ID

if TYPE_CHECKING:
    from molt_desktop.gateway.rpc import Handler, RpcContext
    from molt_desktop.gateway.state import GatewayState

RECENT = 5
HEARTBEAT = {"enabled": False, "every": "0", "everyMs": None, "prompt": "", "target": "none", "ackMaxChars": 300}


def _sessions_block(state: GatewayState, agent_id: str) -> dict[str, Any]:
    entries = state.store.entries(agent_id)
    now = now_ms()
    newest = sorted(entries.items(), key=lambda kv: kv[1].get("updatedAt") or 0, reverse=True)[:RECENT]
    recent = []
    for key, entry in newest:
        updated = entry.get("updatedAt")
        updated = int(updated) if isinstance(updated, (int, float)) else None
        recent.append({"key": key, "updatedAt": updated, "age": max(0, now - updated) if updated else None})
    return {"path": str(state.store.sessions_file(agent_id)), "count": len(entries), "recent": recent}


def config_health(state: GatewayState) -> dict[str, Any]:
    """Whether the config file on disk is in force; an invalid edit keeps the last good config."""
    error = state.config.last_error
    entry: dict[str, Any] = {"path": str(state.config.path), "valid": error is None, "hash": state.config.current.hash}
    if error is not None:
        entry["error"] = str(error)
        entry["fix"] = "Fix the file; the gateway keeps running with the last valid config until then."
    return entry


def health_summary(state: GatewayState, *, with_config: bool = False) -> dict[str, Any]:
    """The health payload; `with_config` adds the molt_desktop `config` entry (not in hello-ok)."""
    started = monotonic()
    sessions = _sessions_block(state, DEFAULT_AGENT_ID)
    summary: dict[str, Any] = {
        "ok": True,
        "ts": now_ms(),
        "durationMs": int((monotonic() - started) * 1000),
        "channels": {},
        "channelOrder": [],
        "channelLabels": {},
        "heartbeatSeconds": 0,
        "defaultAgentId": DEFAULT_AGENT_ID,
        "agents": [{"agentId": DEFAULT_AGENT_ID, "isDefault": True, "heartbeat": dict(HEARTBEAT),
                    "sessions": sessions}],
        "sessions": sessions,
        "configReload": {"hotReloadStatus": "active"},
    }
    if with_config:
        summary["config"] = config_health(state)
    return summary


async def health(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    return health_summary(ctx.state, with_config=True)


async def status(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    from molt_desktop.gateway.http import readiness  # the same checks as GET /readyz

    state = ctx.state
    failing, warnings = await asyncio.to_thread(readiness, state)
    rss = psutil.Process(os.getpid()).memory_info().rss
    runtime = state.runtime
    problems = runtime.readiness_problems()
    runs = runtime.active_runs()
    primary = state.config.current.config.agents.defaults.model.primary
    return {
        # OpenClaw's own names first (runtimeVersion, modelRuntime, processMemory), so clients
        # written for the real gateway find them; then molt_desktop's details.
        "runtimeVersion": state.version,
        "modelRuntime": {"degraded": bool(problems), "pendingAgents": []},
        "processMemory": {"rssBytes": rss},
        "version": state.version,
        "pid": state.pid,
        "host": state.host,
        "platform": sys.platform,
        "uptimeMs": state.uptime_ms,
        "startedAt": state.started_ms,
        "stateDir": str(state.state_dir),
        "configPath": str(state.config.path),
        "sessions": {"count": len(state.store.entries(DEFAULT_AGENT_ID)),
                     "path": str(state.store.sessions_file(DEFAULT_AGENT_ID))},
        "model": {"primary": primary, "ready": not problems, "problems": problems,
                  "activeRuns": sum(1 for r in runs if r.get("state") == "running"),
                  "queuedRuns": sum(1 for r in runs if r.get("state") == "queued")},
        "connections": len(state.presence),
        "config": config_health(state),
        "readiness": {"ready": not failing, "failing": failing, "warnings": warnings},
        "memory": {"rssBytes": rss},
    }


async def system_presence(ctx: RpcContext, params: dict[str, Any]) -> Any:
    return ctx.state.presence_list()


HANDLERS: dict[str, Handler] = {"health": health, "status": status, "system-presence": system_presence}
