"""One minimal real request to a model provider: is it reachable, does the key work, how fast.

`probe_provider(base_url, api, api_key, model_id)` sends a one-word prompt asking for at most one
token and returns a `ProbeResult` (never raises): Settings' Test button and the monitor's active
provider check use it. Not here: the runtime's own provider clients (registry.py).
"""

from __future__ import annotations

import asyncio
import importlib
import time
from dataclasses import dataclass
from typing import Any

from molt_desktop.agent.providers.base import ChatRequest, ProviderError
from molt_desktop.agent.providers.registry import ProviderRegistry


@dataclass
class ProbeResult:
    ok: bool
    elapsed_ms: int
    kind: str = ""  # ProviderError kind ("auth", "network", ...) or "timeout"
    detail: str = ""  # the provider code's own words


async def probe_provider(base_url: str, api: str, api_key: str | None, model_id: str,
                         *, timeout: float = 20.0, headers: dict[str, str] | None = None) -> ProbeResult:
    """One minimal real request (a one-word prompt, at most 1 token back) to a provider."""
    name = "settings-test"
    provider_config: dict[str, Any] = {"baseUrl": base_url.strip(), "api": api, "apiKey": api_key or None,
                                       "models": [{"id": model_id, "maxTokens": 1}]}
    if headers:
        provider_config["headers"] = headers
    registry = ProviderRegistry.from_config_dict({"models": {"providers": {name: provider_config}}})
    module = "anthropic" if api == "anthropic-messages" else "openai_compat"
    # The SDKs take a second to import: not on the GUI thread.
    await asyncio.to_thread(importlib.import_module, f"molt_desktop.agent.providers.{module}")
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    provider = None
    try:
        provider, model = registry.resolve(f"{name}/{model_id}")
        request = ChatRequest(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=1,
                              timeout_s=timeout)

        async def run() -> None:
            assert provider is not None
            async for _event in provider.stream(request):
                pass

        await asyncio.wait_for(run(), timeout)
    except ProviderError as exc:
        return ProbeResult(False, elapsed(), exc.kind, exc.message)
    except TimeoutError:
        return ProbeResult(False, elapsed(), "timeout", f"no answer within {timeout:g} s")
    except Exception as exc:  # a broken URL and the like: shown, never raised into the dialog
        return ProbeResult(False, elapsed(), "unknown", str(exc) or type(exc).__name__)
    finally:
        await registry.aclose()
    return ProbeResult(True, elapsed())
