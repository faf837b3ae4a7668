"""Prometheus metrics of the gateway (served at `/metrics`), in a registry of their own.

Run timings and token counts are derived from the events the runtime publishes, so the agent
package needs no knowledge of metrics.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST as _CONTENT_TYPE

from molt_desktop.clock import monotonic

CONTENT_TYPE = _CONTENT_TYPE
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.rpc_requests = Counter("molt_gateway_rpc_requests", "RPC requests by method and outcome",
                                    ["method", "outcome"], registry=r)
        self.run_duration = Histogram("molt_gateway_run_duration_seconds", "Duration of agent runs",
                                      ["outcome"], buckets=_LATENCY_BUCKETS, registry=r)
        self.first_token = Histogram("molt_gateway_time_to_first_token_seconds",
                                     "Time from run start to the first streamed text", buckets=_LATENCY_BUCKETS,
                                     registry=r)
        self.tokens = Counter("molt_gateway_tokens", "Model tokens by model and kind", ["model", "kind"], registry=r)
        self.open_connections = Gauge("molt_gateway_open_connections", "Open WebSocket connections", registry=r)
        self.auth_failures = Counter("molt_gateway_auth_failures", "Failed connection attempts by reason",
                                     ["reason"], registry=r)
        self.http_requests = Counter("molt_gateway_http_requests", "HTTP requests by path and status",
                                     ["path", "status"], registry=r)
        self._runs: dict[str, tuple[float, bool]] = {}

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe_event(self, event: str, payload: dict[str, Any]) -> None:
        """Feed every published event here; runs are timed from lifecycle start to end."""
        run_id = payload.get("runId")
        if not isinstance(run_id, str):
            return
        if event == "agent":
            stream = payload.get("stream")
            data = payload.get("data") or {}
            if stream == "lifecycle":
                phase = data.get("phase")
                if phase == "start":
                    self._runs[run_id] = (monotonic(), False)
                elif phase in ("end", "error"):
                    started = self._runs.pop(run_id, None)
                    if started is not None:
                        outcome = "error" if phase == "error" else ("aborted" if data.get("aborted") else "ok")
                        self.run_duration.labels(outcome=outcome).observe(monotonic() - started[0])
            elif stream == "assistant":
                started = self._runs.get(run_id)
                if started is not None and not started[1]:
                    self.first_token.observe(monotonic() - started[0])
                    self._runs[run_id] = (started[0], True)
        elif event == "chat" and payload.get("state") == "final":
            usage = payload.get("usage")
            message = payload.get("message")
            if not isinstance(usage, dict):
                return
            model = str((message or {}).get("model") or "unknown") if isinstance(message, dict) else "unknown"
            for kind in ("input", "output", "cacheRead", "cacheWrite"):
                value = usage.get(kind)
                if isinstance(value, (int, float)) and value > 0:
                    self.tokens.labels(model=model, kind=kind).inc(value)
