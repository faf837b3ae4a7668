"""What the gateway reports about models: `models.list`, session defaults, and new sessions.

Reads the runtime's current provider registry; never calls a provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from molt_desktop.agent.providers.base import ProviderError

if TYPE_CHECKING:
    from molt_desktop.agent.providers.base import ModelInfo
    from molt_desktop.agent.runtime import AgentRuntime
    from molt_desktop.gateway.rpc import Handler, RpcContext
    from molt_desktop.sessions.store import SessionStore


def default_model(runtime: AgentRuntime) -> ModelInfo | None:
    registry = runtime.current_registry()
    ref = registry.default_ref()
    if not ref:
        return None
    try:
        return registry.find_model(ref)
    except (ProviderError, KeyError, ValueError):
        return None


def session_defaults(runtime: AgentRuntime) -> dict[str, Any]:
    model = default_model(runtime)
    if model is None:
        return {"modelProvider": None, "model": None, "contextTokens": None}
    return {"modelProvider": model.provider, "model": model.id, "contextTokens": model.context_window}


def ensure_session(runtime: AgentRuntime, store: SessionStore, key: str) -> dict[str, Any]:
    """The session's entry, creating it (with the default model) when it does not exist."""
    entry = store.get(key)
    if entry is not None:
        return entry
    model = default_model(runtime)
    if model is None:
        return store.update(key, {})
    return store.ensure(key, provider=model.provider, model=model.id, model_api=model.api,
                        context_tokens=model.context_window)


async def models_list(ctx: RpcContext, params: dict[str, Any]) -> dict[str, Any]:
    models = []
    for info in ctx.state.runtime.current_registry().models():
        row: dict[str, Any] = {"id": info.id, "name": info.name or info.id, "provider": info.provider,
                               "contextWindow": info.context_window, "reasoning": info.reasoning}
        if "image" in info.input:
            row["input"] = list(info.input)
        models.append(row)
    return {"models": models}


HANDLERS: dict[str, Handler] = {"models.list": models_list}
