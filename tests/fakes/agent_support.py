"""Helpers for agent runtime tests: provider config for fake servers, an event recorder, a
runtime wired to a session store, and schema validation of the emitted events.

The store is the real `sessions.store.SessionStore` when that module exists, else the
in-memory stand-in (memory_store.py); `stored_messages` reads either.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jsonschema

from molt_desktop.agent.providers.registry import ProviderRegistry
from molt_desktop.agent.runtime import AgentRuntime, AgentSettings, agent_id_of
from tests.fakes.common import FakeModelServer
from tests.fakes.memory_store import MemoryStore

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TERMINAL = ("final", "error", "aborted")


def provider_entry(server: FakeModelServer, *, api_key: str | None = "test-key", models: list[dict[str, Any]] | None = None,
                   **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "baseUrl": server.base_url,
        "api": "openai-completions" if server.kind == "openai" else "anthropic-messages",
        "models": models if models is not None else [
            {"id": "fake-1", "name": "Fake", "contextWindow": 32000, "maxTokens": 2048, "input": ["text"],
             "cost": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}},
        ],
        **extra,
    }
    if api_key is not None:
        entry["apiKey"] = api_key
    return entry


def config_for(providers: dict[str, dict[str, Any]], primary: str | None = None,
               fallbacks: list[str] | None = None, **defaults: Any) -> dict[str, Any]:
    model: dict[str, Any] = {}
    if primary:
        model["primary"] = primary
    if fallbacks:
        model["fallbacks"] = fallbacks
    return {"models": {"providers": providers}, "agents": {"defaults": {"model": model, **defaults}}}


class EventLog:
    """Records emitted events; tests wait on them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._waiters: list[tuple[Callable[[str, dict[str, Any]], bool], asyncio.Future[dict[str, Any]]]] = []

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        # What the gateway would send: the payload as JSON, so nothing unserializable slips by.
        payload = json.loads(json.dumps(payload))
        self.events.append((event, payload))
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(event, payload):
                future.set_result(payload)

    async def wait_for(self, predicate: Callable[[str, dict[str, Any]], bool], timeout: float = 15) -> dict[str, Any]:
        for event, payload in self.events:
            if predicate(event, payload):
                return payload
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove((predicate, future))

    async def terminal(self, run_id: str, timeout: float = 15) -> dict[str, Any]:
        return await self.wait_for(
            lambda e, p: e == "chat" and p.get("runId") == run_id and p.get("state") in TERMINAL, timeout)

    def chat(self, run_id: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == "chat" and (run_id is None or p["runId"] == run_id)
                and (state is None or p["state"] == state)]

    def agent(self, run_id: str | None = None, stream: str | None = None) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == "agent" and (run_id is None or p["runId"] == run_id)
                and (stream is None or p["stream"] == stream)]

    def of(self, run_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(e, p) for e, p in self.events if p.get("runId") == run_id]


def make_store(state_dir: Path) -> Any:
    try:
        from molt_desktop.sessions.store import SessionStore
    except ImportError:
        return MemoryStore()
    return SessionStore(state_dir)


def stored_messages(store: Any, key: str) -> list[dict[str, Any]]:
    """The transcript's message objects of a session, as written (suffixes kept)."""
    if isinstance(store, MemoryStore):
        return store.messages(key)
    from molt_desktop.sessions.transcript import read_transcript

    entry = store.get(key)
    path = store.transcript_path(entry, agent_id_of(key))
    return [line["message"] for line in read_transcript(path) if line.get("type") == "message"]


@contextlib.asynccontextmanager
async def runtime_for(
    config: dict[str, Any], store: Any, *, settings: AgentSettings | None = None, coalesce_s: float = 0.05,
) -> AsyncIterator[tuple[AgentRuntime, EventLog]]:
    registry = ProviderRegistry.from_config_dict(config)
    events = EventLog()
    current = settings or AgentSettings.from_config_dict(config)
    runtime = AgentRuntime(store, lambda: registry, lambda: current, events, coalesce_interval_s=coalesce_s)
    try:
        yield runtime, events
    finally:
        await runtime.stop()
        await registry.aclose()


@functools.cache
def _schema_definitions() -> dict[str, Any]:
    schema = json.loads((FIXTURES / "protocol.schema.json").read_text(encoding="utf-8"))
    definitions: dict[str, Any] = schema["definitions"]
    return definitions


@functools.cache
def validator(name: str) -> jsonschema.Draft7Validator:
    definitions = dict(_schema_definitions())
    if name == "AgentEvent":
        # Both real gateways send sessionKey on agent events (captures); the schema lacks it.
        agent = json.loads(json.dumps(definitions["AgentEvent"]))
        agent["properties"]["sessionKey"] = {"type": "string", "minLength": 1}
        definitions["AgentEvent"] = agent
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": definitions})


def assert_valid(event: str, payload: dict[str, Any]) -> None:
    """Validate a chat/agent payload against the official ChatEvent/AgentEvent definition."""
    name = {"chat": "ChatEvent", "agent": "AgentEvent"}[event]
    errors = sorted(validator(name).iter_errors(payload), key=str)
    assert not errors, f"{event} payload {payload} does not match {name}: {[e.message for e in errors][:3]}"
