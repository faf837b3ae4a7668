"""From config to providers: which models exist, which one answers, and the SDK clients.

`ProviderRegistry.from_config_dict(config, resolve_secret=...)` reads a plain dict shaped like
OpenClaw's config — `models.providers.<name>.{baseUrl, apiKey, api, headers, models[]}` and
`agents.defaults.model.{primary, fallbacks}` — so it does not depend on the config package's
models. `apiKey` may be a `keyring:<name>` reference, resolved by the `resolve_secret` callable
(config.secrets.resolve_secret in the app) the first time the provider is used; keyring lookups
can block, so call `resolve` from a worker thread. A provider without `apiKey` falls back to the
environment variable `<NAME>_API_KEY` (ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPSEEK_API_KEY...).

Bad config never raises here: each problem becomes a sentence in `problems()` (shown by
`/readyz`) and a `ProviderError("not_configured")` when that provider is asked for.
The registry owns the SDK clients it creates; `aclose()` closes them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from molt_desktop.agent.providers.base import (
    SUPPORTED_APIS,
    ModelCost,
    ModelInfo,
    ModelRef,
    Provider,
    ProviderError,
)
from molt_desktop.logs import get_logger, register_secret

log = get_logger("agent")

DEFAULT_CONTEXT_WINDOW = 200_000
DEFAULT_MAX_TOKENS = 8192
# Providers whose endpoint and API are well known, so `baseUrl`/`api` may be left out.
KNOWN_PROVIDERS: dict[str, tuple[str, str]] = {
    "anthropic": ("https://api.anthropic.com", "anthropic-messages"),
    "openai": ("https://api.openai.com/v1", "openai-completions"),
    "ollama": ("http://127.0.0.1:11434/v1", "openai-completions"),
}

SecretResolver = Callable[[str | None], str | None]


@dataclass(frozen=True)
class ProviderConfig:
    name: str
    base_url: str
    api: str
    api_key: str | None  # as configured: a key, a keyring: reference, or None
    headers: tuple[tuple[str, str], ...]
    models: tuple[ModelInfo, ...]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else default


def _model_info(provider: str, api: str, raw: Mapping[str, Any]) -> ModelInfo:
    cost = _as_dict(raw.get("cost"))
    inputs = raw.get("input")
    model_id = str(raw["id"])
    return ModelInfo(
        provider=provider,
        id=model_id,
        name=str(raw.get("name") or model_id),
        api=api,
        context_window=int(_number(raw.get("contextWindow"), DEFAULT_CONTEXT_WINDOW)) or DEFAULT_CONTEXT_WINDOW,
        max_tokens=int(_number(raw.get("maxTokens"), DEFAULT_MAX_TOKENS)) or DEFAULT_MAX_TOKENS,
        reasoning=bool(raw.get("reasoning", False)),
        input=tuple(str(i) for i in inputs if isinstance(i, str)) if isinstance(inputs, list) else ("text",),
        cost=ModelCost(
            input=_number(cost.get("input"), 0.0),
            output=_number(cost.get("output"), 0.0),
            cache_read=_number(cost.get("cacheRead"), 0.0),
            cache_write=_number(cost.get("cacheWrite"), 0.0),
        ),
    )


def parse_providers(config: Mapping[str, Any]) -> tuple[dict[str, ProviderConfig], list[str]]:
    """(providers, problems) from `models.providers` of a config dict."""
    providers: dict[str, ProviderConfig] = {}
    problems: list[str] = []
    raw_providers = _as_dict(config.get("models")).get("providers")
    if raw_providers is None:
        return providers, problems
    if not isinstance(raw_providers, dict):
        return providers, ["models.providers must be an object of providers"]
    for name, raw in raw_providers.items():
        where = f"models.providers.{name}"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be an object")
            continue
        known_url, known_api = KNOWN_PROVIDERS.get(name, (None, None))
        api = raw.get("api") or known_api
        base_url = raw.get("baseUrl") or known_url
        if api not in SUPPORTED_APIS:
            problems.append(
                f"{where}.api is {api!r}; supported are {' and '.join(SUPPORTED_APIS)}"
                if api else f"{where}.api is missing (anthropic-messages or openai-completions)"
            )
            continue
        if not isinstance(base_url, str) or not base_url.strip():
            problems.append(f"{where}.baseUrl is missing")
            continue
        models: list[ModelInfo] = []
        raw_models = raw.get("models", [])
        for index, raw_model in enumerate(raw_models if isinstance(raw_models, list) else []):
            if isinstance(raw_model, dict) and isinstance(raw_model.get("id"), str) and raw_model["id"].strip():
                models.append(_model_info(name, str(api), raw_model))
            else:
                problems.append(f"{where}.models[{index}] needs an id")
        headers = raw.get("headers")
        providers[name] = ProviderConfig(
            name=name,
            base_url=base_url.strip(),
            api=str(api),
            api_key=raw.get("apiKey") if isinstance(raw.get("apiKey"), str) else None,
            headers=tuple((str(k), str(v)) for k, v in headers.items()) if isinstance(headers, dict) else (),
            models=tuple(models),
        )
    return providers, problems


def parse_model_selection(config: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """(primary, fallbacks) from `agents.defaults.model` (an object, or a bare string)."""
    model = _as_dict(config.get("agents")).get("defaults")
    selection = _as_dict(model).get("model")
    if isinstance(selection, str):
        return selection.strip() or None, []
    selection = _as_dict(selection)
    primary = selection.get("primary")
    fallbacks = selection.get("fallbacks")
    return (
        primary.strip() if isinstance(primary, str) and primary.strip() else None,
        [f.strip() for f in fallbacks if isinstance(f, str) and f.strip()] if isinstance(fallbacks, list) else [],
    )


class ProviderRegistry:
    def __init__(
        self,
        providers: Mapping[str, ProviderConfig],
        *,
        primary: str | None = None,
        fallbacks: list[str] | None = None,
        problems: list[str] | None = None,
        resolve_secret: SecretResolver | None = None,
    ) -> None:
        self._configs = dict(providers)
        self.primary = primary
        self.fallbacks = list(fallbacks or [])
        self._problems = list(problems or [])
        self._resolve_secret = resolve_secret or (lambda value: value)
        self._instances: dict[str, Provider] = {}
        self._lock = threading.Lock()  # resolve() runs in worker threads

    @classmethod
    def from_config_dict(
        cls, config: Mapping[str, Any], *, resolve_secret: SecretResolver | None = None
    ) -> ProviderRegistry:
        """Build from a resolved config dict (`${VAR}` already expanded by the config loader)."""
        providers, problems = parse_providers(config if isinstance(config, Mapping) else {})
        primary, fallbacks = parse_model_selection(config if isinstance(config, Mapping) else {})
        return cls(providers, primary=primary, fallbacks=fallbacks, problems=problems, resolve_secret=resolve_secret)

    def has_providers(self) -> bool:
        return bool(self._configs)

    def problems(self) -> list[str]:
        """Readiness problems: config mistakes, no provider, a primary model that does not resolve."""
        problems = list(self._problems)
        if not self._configs:
            problems.append("no model provider configured")
            return problems
        default = self.default_ref()
        if default is None:
            problems.append("no model configured: set agents.defaults.model.primary or list models under a provider")
        else:
            try:
                self.find_model(default)
            except ProviderError as exc:
                problems.append(exc.message)
        return problems

    def models(self) -> list[ModelInfo]:
        return [model for config in self._configs.values() for model in config.models]

    def default_ref(self) -> str | None:
        """`agents.defaults.model.primary`, else the first model listed under any provider."""
        if self.primary:
            return self.primary
        models = self.models()
        return models[0].ref if models else None

    def model_chain(self, override: str | None = None) -> list[str]:
        """The refs to try in order: the session's override or the primary, then the fallbacks."""
        chain: list[str] = []
        for ref in [override or self.default_ref(), *self.fallbacks]:
            if ref and ref not in chain:
                chain.append(ref)
        return chain

    def find_model(self, ref: str) -> ModelInfo:
        """The model a ref names, without touching secrets or clients."""
        if not self._configs:
            raise ProviderError("not_configured", no_provider_message())
        parsed = self._parse(ref)
        config = self._configs.get(parsed.provider)
        if config is None:
            configured = ", ".join(sorted(self._configs)) or "none"
            raise ProviderError(
                "not_configured",
                f"The model {ref} names the provider {parsed.provider!r}, which is not configured under "
                f"models.providers (configured: {configured}).",
                provider=parsed.provider,
                model=parsed.model_id,
            )
        for model in config.models:
            if model.id == parsed.model_id:
                return model
        # Not listed: usable with default limits (handy for Ollama models pulled later).
        return ModelInfo(parsed.provider, parsed.model_id, parsed.model_id, config.api,
                         DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_TOKENS)

    def resolve(self, ref: str) -> tuple[Provider, ModelInfo]:
        """The provider and model for `provider/modelId`; creates the client on first use.

        May block (keyring lookup of the API key): call via asyncio.to_thread on the loop.
        """
        model = self.find_model(ref)
        with self._lock:
            provider = self._instances.get(model.provider)
            if provider is None:
                provider = self._create(self._configs[model.provider])
                self._instances[model.provider] = provider
        return provider, model

    def _parse(self, ref: str) -> ModelRef:
        if "/" in ref:
            try:
                return ModelRef.parse(ref)
            except ValueError:
                pass
        else:
            # A bare model id: accept it when exactly one provider lists it.
            owners = [m for m in self.models() if m.id == ref.strip()]
            if len(owners) == 1:
                return ModelRef(owners[0].provider, owners[0].id)
        raise ProviderError(
            "not_configured",
            f"The model reference {ref!r} is not of the form provider/modelId (for example "
            f"anthropic/claude-sonnet-4-5); check agents.defaults.model.",
        )

    def _create(self, config: ProviderConfig) -> Provider:
        api_key = self._resolve_secret(config.api_key) if config.api_key else None
        if not api_key:
            api_key = os.environ.get(re.sub(r"[^A-Z0-9]", "_", config.name.upper()) + "_API_KEY") or None
        register_secret(api_key)
        headers = dict(config.headers)
        log.info("model provider %s: %s at %s", config.name, config.api, config.base_url)
        # The SDKs take a second to import: only when a provider of theirs is first used.
        if config.api == "anthropic-messages":
            from molt_desktop.agent.providers.anthropic import AnthropicProvider

            return AnthropicProvider(config.name, base_url=config.base_url, api_key=api_key, headers=headers)
        from molt_desktop.agent.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider(config.name, base_url=config.base_url, api_key=api_key, headers=headers)

    async def aclose(self) -> None:
        with self._lock:
            instances, self._instances = list(self._instances.values()), {}
        for provider in instances:
            try:
                await provider.aclose()
            except Exception:  # closing must not fail shutdown
                log.warning("closing model provider %s failed", provider.name, exc_info=True)


def no_provider_message() -> str:
    return (
        "No model provider is configured. Add one under models.providers in the config file "
        "(baseUrl, apiKey, api \"anthropic-messages\" or \"openai-completions\", and its models) "
        "and set agents.defaults.model.primary, or add a provider in Settings."
    )
