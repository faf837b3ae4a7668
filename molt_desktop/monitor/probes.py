"""What the monitor measures, as `Observation`s (model.py) for the rules.

- `check_local_gateway`: the local gateway's `/readyz` and a `health` call over the protocol,
  with its latency.
- `check_remote`: one remote gateway: reachable, handshake ok, `health` latency (used where no
  endpoint pool probes the remotes already, i.e. `molt-desktop gateway` on a server).
- `system_observations`: CPU, memory, and the disk holding the state dir (psutil).
- `RunStats`: passive provider checks from the gateway's own events: error rate and latency of
  recent runs per provider, and today's cost per provider against `budget.daily` (kept in
  `<state>/monitor/spend.json`, so a restart does not forget what today already cost).
- `active_provider_check`: at most every 10 minutes, a one-token request to a provider that had
  no run recently, so a dead key is noticed before someone needs it.

Not here: when each runs (service.py), what counts as bad (rules.py).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from molt_desktop.client.connection import ClientOptions, GatewayCallError, GatewayConnection
from molt_desktop.fileio import atomic_write_json
from molt_desktop.logs import get_logger
from molt_desktop.monitor.model import Observation

log = get_logger("monitor")

RUN_WINDOW = 20  # the last runs per provider that make its error rate
RUN_MAX_AGE = 30 * 60.0  # older runs say nothing about now
ACTIVE_CHECK_EVERY = 600.0


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, GatewayCallError):
        return exc.message
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


async def _protocol_health(options: ClientOptions, timeout: float) -> float:
    """Connect, call `health`, return its latency in ms (raises on any failure)."""
    options.connect_timeout = min(options.connect_timeout, timeout)
    async with GatewayConnection(options) as conn:
        started = time.monotonic()
        await conn.call("health", {}, timeout=timeout)
        return (time.monotonic() - started) * 1000


async def check_local_gateway(http_base: str, options: ClientOptions | None, *, timeout: float = 10.0,
                              ssl: Any = None, link: Any = None) -> Observation:
    """`/readyz`, then `health` over the protocol (`options`), or the endpoint pool's own probe
    of the local gateway (`link`, an EndpointHealth) where the app has one."""
    now = time.time()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(f"{http_base}/readyz", ssl=ssl if ssl is not None else True) as response:
                body = await response.json(content_type=None)
        failing = body.get("failing") if isinstance(body, dict) else None
        if options is not None:
            latency: float | None = await _protocol_health(options, timeout)
        elif link is not None and link.state == "down":
            raise ConnectionError(link.last_error or "the gateway does not answer")
        else:
            latency = link.latency_ms if link is not None else None
    except Exception as exc:  # refused, timed out, a broken answer: the gateway is not well
        return Observation("gateway.local", "local", ok=False, detail=_error_text(exc), at=now)
    detail = "; ".join(str(f) for f in failing) if failing else ""
    return Observation("gateway.local", "local", ok=True, value=round(latency, 1) if latency is not None else None,
                       detail=detail, at=now, data={"ready": not failing})


async def check_remote(endpoint_id: str, options: ClientOptions, *, timeout: float = 10.0) -> Observation:
    now = time.time()
    try:
        latency = await _protocol_health(options, timeout)
    except Exception as exc:
        return Observation(f"remote.{endpoint_id}", endpoint_id, ok=False, detail=_error_text(exc), at=now)
    return Observation(f"remote.{endpoint_id}", endpoint_id, ok=True, value=round(latency, 1), at=now)


def system_observations(state_dir: Path) -> list[Observation]:
    """CPU since the last call (the first call primes it), memory, and the state dir's disk."""
    now = time.time()
    out = [Observation("system.cpu", "system", value=psutil.cpu_percent(interval=None) / 100, at=now),
           Observation("system.memory", "system", value=psutil.virtual_memory().percent / 100, at=now)]
    try:
        disk = psutil.disk_usage(str(state_dir))
        out.append(Observation("system.disk", "system", value=disk.percent / 100, at=now,
                               detail=f"{disk.free // 2**20} MB free", data={"free": disk.free}))
    except OSError as exc:
        out.append(Observation("system.disk", "system", value=None, detail=str(exc), at=now))
    return out


@dataclass
class _Run:
    ok: bool
    at: float
    latency_ms: float | None
    error: str = ""


@dataclass
class RunStats:
    """Per-provider outcomes of recent runs and today's cost, fed with the gateway's events."""

    spend_path: Path | None = None
    runs: dict[str, deque[_Run]] = field(default_factory=dict)
    spend: dict[str, float] = field(default_factory=dict)
    spend_day: str = ""
    _started: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spend_day = self._today()
        if self.spend_path is not None and self.spend_path.exists():
            try:
                data = json.loads(self.spend_path.read_text(encoding="utf-8"))
                if data.get("day") == self.spend_day:
                    self.spend = {str(k): float(v) for k, v in data.get("providers", {}).items()}
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                log.warning("cannot read %s (%s); today's spend starts at 0", self.spend_path, exc)

    @staticmethod
    def _today() -> str:
        return datetime.date.today().isoformat()

    def observe_event(self, event: str, payload: dict[str, Any]) -> None:
        run_id = payload.get("runId")
        if not isinstance(run_id, str):
            return
        if event == "agent" and payload.get("stream") == "lifecycle":
            data = payload.get("data") or {}
            if data.get("phase") == "start":
                self._started[run_id] = time.monotonic()
            return
        if event != "chat":
            return
        state = payload.get("state")
        if state == "final":
            message = payload.get("message")
            provider = str(message.get("provider") or "") if isinstance(message, dict) else ""
            self._record(provider, run_id, True)
            usage = payload.get("usage")
            costs = usage.get("cost") if isinstance(usage, dict) else None
            cost = costs.get("total") if isinstance(costs, dict) else None
            if provider and isinstance(cost, (int, float)) and cost > 0:
                self._add_spend(provider, float(cost))
        elif state == "error":
            detail = payload.get("errorDetail")
            provider = str(detail.get("provider") or "") if isinstance(detail, dict) else ""
            self._record(provider, run_id, False, str(payload.get("errorMessage") or ""))

    def _record(self, provider: str, run_id: str, ok: bool, error: str = "") -> None:
        started = self._started.pop(run_id, None)
        if not provider:
            return
        latency = (time.monotonic() - started) * 1000 if started is not None else None
        self.runs.setdefault(provider, deque(maxlen=RUN_WINDOW)).append(_Run(ok, time.time(), latency, error))

    def _add_spend(self, provider: str, cost: float) -> None:
        today = self._today()
        if today != self.spend_day:
            self.spend_day, self.spend = today, {}
        self.spend[provider] = self.spend.get(provider, 0.0) + cost
        if self.spend_path is not None:
            try:
                atomic_write_json(self.spend_path, {"day": today, "providers": self.spend})
            except OSError as exc:
                log.warning("cannot write %s: %s", self.spend_path, exc)

    def last_run_at(self, provider: str) -> float | None:
        runs = self.runs.get(provider)
        return runs[-1].at if runs else None

    def provider_observations(self) -> list[Observation]:
        now = time.time()
        out = []
        for provider, runs in self.runs.items():
            recent = [r for r in runs if now - r.at <= RUN_MAX_AGE]
            if not recent:
                continue
            errors = [r for r in recent if not r.ok]
            latencies = sorted(r.latency_ms for r in recent if r.latency_ms is not None)
            out.append(Observation(
                f"provider.{provider}", provider, ok=not errors or len(errors) < len(recent),
                value=len(errors) / len(recent), detail=errors[-1].error if errors else "", at=now,
                data={"runs": len(recent), "errors": len(errors),
                      "latencyMs": round(latencies[len(latencies) // 2], 1) if latencies else None}))
        return out

    def spend_observations(self, budgets: dict[str, float]) -> list[Observation]:
        if self._today() != self.spend_day:
            self.spend_day, self.spend = self._today(), {}
        now = time.time()
        return [Observation(f"spend.{p}", p, value=round(self.spend.get(p, 0.0), 6), at=now, data={"budget": b})
                for p, b in budgets.items()]


async def active_provider_check(stats: RunStats, name: str, base_url: str, api: str, api_key: str | None,
                                model_id: str, headers: dict[str, str] | None = None) -> None:
    """A one-token request, counted like a run in the provider's recent outcomes."""
    from molt_desktop.agent.providers.probe import probe_provider

    result = await probe_provider(base_url, api, api_key, model_id, headers=headers)
    stats.runs.setdefault(name, deque(maxlen=RUN_WINDOW)).append(
        _Run(result.ok, time.time(), float(result.elapsed_ms), result.detail))


Emit = Callable[[Observation], None]
