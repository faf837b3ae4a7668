"""Token usage and its cost, in the shapes OpenClaw writes.

The transcript's assistant message carries
`{"input","output","cacheRead","cacheWrite","totalTokens","cost":{"input","output","cacheRead","cacheWrite","total"}}`
(key order as OpenClaw 2026.1.29 writes it); costs are US dollars from the model's cost table
(dollars per million tokens). The session entry counts `inputTokens`, `outputTokens` and
`totalTokens` — the latter is the prompt size (input + cache), as the real sessions.json shows.
"""

from __future__ import annotations

from typing import Any

from molt_desktop.agent.providers.base import ModelCost, Usage

PER_MILLION = 1_000_000


def _cost(tokens: int, dollars_per_million: float) -> float:
    value = tokens * dollars_per_million / PER_MILLION
    # Whole numbers stay ints so a zero cost table writes 0 like OpenClaw, not 0.0.
    return int(value) if value == int(value) else round(value, 10)


def usage_record(usage: Usage | None, cost: ModelCost) -> dict[str, Any]:
    """The transcript `usage` object of an assistant message."""
    u = usage or Usage()
    costs = {
        "input": _cost(u.input, cost.input),
        "output": _cost(u.output, cost.output),
        "cacheRead": _cost(u.cache_read, cost.cache_read),
        "cacheWrite": _cost(u.cache_write, cost.cache_write),
    }
    total = sum(costs.values())
    costs["total"] = int(total) if total == int(total) else round(total, 10)
    return {
        "input": u.input,
        "output": u.output,
        "cacheRead": u.cache_read,
        "cacheWrite": u.cache_write,
        "totalTokens": u.input + u.output + u.cache_read + u.cache_write,
        "cost": costs,
    }


def session_token_fields(usage: Usage | None) -> dict[str, int]:
    """`inputTokens`, `outputTokens`, `totalTokens` for the sessions.json entry."""
    u = usage or Usage()
    return {
        "inputTokens": u.input,
        "outputTokens": u.output,
        "totalTokens": u.input + u.cache_read + u.cache_write,
    }


def agent_meta_usage(usage: Usage | None) -> dict[str, int]:
    """The `agent` method's `result.meta.agentMeta.usage`."""
    u = usage or Usage()
    return {
        "input": u.input,
        "output": u.output,
        "cacheRead": u.cache_read,
        "cacheWrite": u.cache_write,
        "total": u.input + u.output + u.cache_read + u.cache_write,
    }
