"""ProviderRegistry: from an OpenClaw-shaped config dict to models, refs and providers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.agent.providers.base import ModelCost, ModelRef, ProviderError
from molt_desktop.agent.providers.registry import ProviderRegistry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# models.providers / agents.defaults exactly as the real openclaw 2026.1.29 state folder has them.
REAL_CONFIG = {
    "models": {"mode": "merge", "providers": {"fake": {
        "baseUrl": "http://127.0.0.1:18911/v1", "apiKey": "fake-key", "api": "openai-completions",
        "models": [{"id": "fake-1", "name": "Fake", "reasoning": False, "input": ["text"],
                    "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
                    "contextWindow": 32000, "maxTokens": 2048}],
    }}},
    "agents": {"defaults": {"model": {"primary": "fake/fake-1"}, "maxConcurrent": 4, "subagents": {"maxConcurrent": 8}}},
}


def test_reads_the_real_openclaw_config() -> None:
    registry = ProviderRegistry.from_config_dict(REAL_CONFIG)
    assert registry.problems() == []
    (model,) = registry.models()
    assert (model.provider, model.id, model.name, model.api) == ("fake", "fake-1", "Fake", "openai-completions")
    assert (model.context_window, model.max_tokens, model.reasoning, model.input) == (32000, 2048, False, ("text",))
    assert model.cost == ModelCost()
    assert registry.default_ref() == "fake/fake-1"
    assert registry.find_model("fake/fake-1") == model


def test_model_chain_primary_then_fallbacks_without_duplicates() -> None:
    config = {"models": {"providers": {
        "a": {"baseUrl": "http://a/v1", "api": "openai-completions", "models": [{"id": "m1"}, {"id": "m2"}]},
        "b": {"baseUrl": "http://b", "api": "anthropic-messages", "models": [{"id": "claude"}]},
    }}, "agents": {"defaults": {"model": {"primary": "a/m1", "fallbacks": ["b/claude", "a/m1", "a/m2"]}}}}
    registry = ProviderRegistry.from_config_dict(config)
    assert registry.model_chain() == ["a/m1", "b/claude", "a/m2"]
    assert registry.model_chain("a/m2") == ["a/m2", "b/claude", "a/m1"]


def test_no_primary_uses_the_first_listed_model_and_a_string_model_works() -> None:
    providers = {"p": {"baseUrl": "http://p/v1", "api": "openai-completions", "models": [{"id": "x"}, {"id": "y"}]}}
    assert ProviderRegistry.from_config_dict({"models": {"providers": providers}}).default_ref() == "p/x"
    as_string = {"models": {"providers": providers}, "agents": {"defaults": {"model": "p/y"}}}
    assert ProviderRegistry.from_config_dict(as_string).default_ref() == "p/y"


def test_no_provider() -> None:
    registry = ProviderRegistry.from_config_dict({})
    assert registry.problems() == ["no model provider configured"]
    assert not registry.has_providers()
    with pytest.raises(ProviderError) as caught:
        registry.find_model("anthropic/claude")
    assert caught.value.kind == "not_configured"
    assert "No model provider is configured" in caught.value.message
    assert "models.providers" in caught.value.message


def test_unknown_provider_in_ref() -> None:
    registry = ProviderRegistry.from_config_dict(REAL_CONFIG)
    with pytest.raises(ProviderError) as caught:
        registry.find_model("deepseek/deepseek-chat")
    assert caught.value.message == (
        "The model deepseek/deepseek-chat names the provider 'deepseek', which is not configured under "
        "models.providers (configured: fake)."
    )


def test_bare_model_id_and_unlisted_model() -> None:
    registry = ProviderRegistry.from_config_dict(REAL_CONFIG)
    assert registry.find_model("fake-1").ref == "fake/fake-1"
    unlisted = registry.find_model("fake/llama3.2:3b")
    assert (unlisted.id, unlisted.api, unlisted.context_window) == ("llama3.2:3b", "openai-completions", 200_000)
    with pytest.raises(ProviderError, match="not of the form provider/modelId"):
        registry.find_model("nonsense")


def test_model_ids_may_contain_slashes() -> None:
    assert ModelRef.parse("openrouter/anthropic/claude-sonnet-4-5") == ModelRef(
        "openrouter", "anthropic/claude-sonnet-4-5")


def test_config_mistakes_become_problems_not_exceptions() -> None:
    config = {"models": {"providers": {
        "odd": {"baseUrl": "http://x", "api": "openai-responses", "models": []},
        "nourl": {"api": "openai-completions"},
        "notobj": 5,
        "partial": {"baseUrl": "http://p/v1", "api": "openai-completions", "models": [{"name": "no id"}, {"id": "ok"}]},
    }}, "agents": {"defaults": {"model": {"primary": "odd/x"}}}}
    registry = ProviderRegistry.from_config_dict(config)
    problems = registry.problems()
    assert "models.providers.odd.api is 'openai-responses'; supported are anthropic-messages and openai-completions" in problems
    assert "models.providers.nourl.baseUrl is missing" in problems
    assert "models.providers.notobj must be an object" in problems
    assert "models.providers.partial.models[0] needs an id" in problems
    assert any("names the provider 'odd'" in p for p in problems)
    assert [m.ref for m in registry.models()] == ["partial/ok"]
    broken: dict[str, Any]
    for broken in ({"models": 3}, {"models": {"providers": []}}, {"agents": {"defaults": {"model": 7}}}):
        ProviderRegistry.from_config_dict(broken).problems()  # never raises


def test_known_providers_need_no_base_url() -> None:
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {
        "anthropic": {"apiKey": "k", "models": [{"id": "claude-sonnet-4-5", "input": ["text", "image"]}]},
        "ollama": {"models": [{"id": "qwen2.5"}]},
    }}})
    assert registry.problems() == []
    assert registry.find_model("anthropic/claude-sonnet-4-5").api == "anthropic-messages"
    assert registry.find_model("anthropic/claude-sonnet-4-5").accepts_images
    assert registry.find_model("ollama/qwen2.5").api == "openai-completions"


async def test_api_key_from_keyring_reference_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def resolve(value: str | None) -> str | None:
        seen.append(value)
        return "resolved-secret" if value == "keyring:deepseek.key" else value

    monkeypatch.setenv("OLLAMA_API_KEY", "env-key")
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {
        "deepseek": {"baseUrl": "https://api.deepseek.com/v1", "api": "openai-completions",
                     "apiKey": "keyring:deepseek.key", "models": [{"id": "deepseek-chat"}]},
        "ollama": {"models": [{"id": "qwen2.5"}]},
    }}}, resolve_secret=resolve)
    try:
        provider, _ = registry.resolve("deepseek/deepseek-chat")
        again, _ = registry.resolve("deepseek/deepseek-chat")
        assert provider is again and seen == ["keyring:deepseek.key"]
        assert provider._client.api_key == "resolved-secret"  # type: ignore[attr-defined]
        ollama, _ = registry.resolve("ollama/qwen2.5")
        assert ollama._client.api_key == "env-key"  # type: ignore[attr-defined]
    finally:
        await registry.aclose()


def test_real_state_folder_config_fixture_if_present() -> None:
    path = FIXTURES / "state-2026.1.29" / "openclaw.json"
    if not path.exists():
        pytest.skip("the real state folder is not among the fixtures")
    registry = ProviderRegistry.from_config_dict(json.loads(path.read_text()))
    assert registry.default_ref() == "fake/fake-1" and registry.problems() == []
