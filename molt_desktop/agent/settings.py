"""The runtime's knobs, read from `agents.defaults` of a plain config dict.

- `maxConcurrent` (default 4): runs at once; more wait in a queue.
- `timeoutSeconds` (default 600): a whole run, fallbacks included; chat.send's `timeoutMs` and
  the agent method's `timeout` override it per run.
- `requestTimeoutSeconds` (molt addition, default 120): how long one model may stay silent
  (connecting, or between two chunks) before it counts as timed out and the next model is tried.
- `systemPrompt` (molt addition, optional): sent as the system prompt of every run.
Model selection (primary, fallbacks) is the provider registry's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_CONCURRENT = 4
DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class AgentSettings:
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    system_prompt: str | None = None

    @classmethod
    def from_config_dict(cls, config: Mapping[str, Any]) -> AgentSettings:
        agents = config.get("agents") if isinstance(config, Mapping) else None
        defaults = agents.get("defaults") if isinstance(agents, dict) else None
        d: dict[str, Any] = defaults if isinstance(defaults, dict) else {}
        return cls(
            max_concurrent=max(1, int(_positive(d.get("maxConcurrent"), DEFAULT_MAX_CONCURRENT))),
            timeout_seconds=_positive(d.get("timeoutSeconds"), DEFAULT_TIMEOUT_SECONDS),
            request_timeout_seconds=_positive(d.get("requestTimeoutSeconds"), DEFAULT_REQUEST_TIMEOUT_SECONDS),
            system_prompt=d["systemPrompt"] if isinstance(d.get("systemPrompt"), str) and d["systemPrompt"] else None,
        )


def _positive(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default
