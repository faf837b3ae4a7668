"""The blocking parts of starting a turn, run in a worker thread: reading what the model needs
(model chain, history) and storing the user's message.

They are two steps so the runtime can send the request to the model while the user message is
being written and fsynced: no reply text goes out (or is stored) before that write completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from molt_desktop.agent.context import user_message
from molt_desktop.agent.providers.base import ModelInfo, Provider, ProviderError
from molt_desktop.agent.providers.registry import ProviderRegistry, no_provider_message
from molt_desktop.agent.recorder import SessionStoreLike
from molt_desktop.agent.runs import Run
from molt_desktop.clock import now_ms
from molt_desktop.logs import get_logger

log = get_logger("agent")

HISTORY_LIMIT = 1000
THINKING_LEVELS = ("off", "minimal", "low", "medium", "high", "xhigh")


@dataclass
class TurnStart:
    """What a turn starts from: the model candidates, the context messages (history plus the new
    user message, as chat.history shows it) and the transcript form of that message."""

    candidates: list[tuple[Provider, ModelInfo]]
    messages: list[dict[str, Any]]
    stored_message: dict[str, Any]
    session_level: str


def override_ref(entry: dict[str, Any] | None) -> str | None:
    """A per-session model chosen with sessions.patch (`providerOverride`/`modelOverride`)."""
    if not entry or not isinstance(entry.get("modelOverride"), str) or not entry["modelOverride"]:
        return None
    provider = entry.get("providerOverride")
    model = str(entry["modelOverride"])
    return f"{provider}/{model}" if isinstance(provider, str) and provider else model


def read_turn(store: SessionStoreLike, run: Run, registry: ProviderRegistry) -> TurnStart:
    """Blocking: resolve the model chain and read the history. Writes nothing."""
    entry = store.get(run.session_key)
    chain = registry.model_chain(override_ref(entry))
    if not registry.has_providers() or not chain:
        raise ProviderError("not_configured", no_provider_message())
    candidates: list[tuple[Provider, ModelInfo]] = []
    for position, ref in enumerate(chain):
        try:
            candidates.append(registry.resolve(ref))
        except ProviderError as err:
            if position == 0:
                raise
            log.warning("fallback model %s skipped: %s", ref, err.message)
    # The session's own level (sessions.patch thinkingLevel) is recorded in its transcript;
    # chat.send's `thinking` applies to this one request only.
    level = entry.get("thinkingLevel") if entry else None
    session_level = level if isinstance(level, str) and level in THINKING_LEVELS else "off"
    if run.thinking is None and session_level != "off":
        run.thinking = session_level
    history = store.history(run.session_key, HISTORY_LIMIT) if entry is not None else None
    timestamp = now_ms()
    message_id = run.run_id if run.kind == "chat" else None
    stored = user_message(run.message, run.images, timestamp, message_id)
    shown = user_message(run.message, run.images, timestamp, None)  # history strips the message_id
    messages = [*(getattr(history, "messages", None) or []), shown][-HISTORY_LIMIT:]
    return TurnStart(candidates, messages, stored, session_level)


def store_user_message(store: SessionStoreLike, run: Run, start: TurnStart) -> dict[str, Any] | None:
    """Blocking: create the session if new, record the model, append (and fsync) the user message."""
    primary = start.candidates[0][1]
    entry = store.ensure(run.session_key, provider=primary.provider, model=primary.id, model_api=primary.api,
                         context_tokens=primary.context_window, thinking_level=start.session_level)
    store.append_message(run.session_key, start.stored_message)  # changes the transcript, not the entry
    run.user_stored = True
    run.session_id = entry.get("sessionId") if entry else None
    return entry
