"""The `openai-completions` provider: OpenAI's chat completions API and the compatible servers.

Uses the official SDK (`AsyncOpenAI`) with the configured `baseUrl` (e.g.
`http://127.0.0.1:11434/v1`), so DeepSeek, Qwen (DashScope compatible mode) and Ollama work by
configuration alone. Streams with `stream_options.include_usage` so the last chunk carries the
token usage. SDK retries are off: the runtime decides about fallbacks.

Transcript messages become chat messages here: text as a string, images as `image_url` parts
with a `data:` URL.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any
from urllib.parse import urlparse

import openai
from openai.types.chat import ChatCompletion

from molt_desktop.agent.providers.base import (
    ChatRequest,
    Stop,
    StreamEvent,
    TextDelta,
    Usage,
    content_blocks,
)
from molt_desktop.agent.providers.errors import CallSite, classify

_FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "toolUse",
    "function_call": "toolUse",
    "content_filter": "refusal",
}
_REASONING_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}


def to_openai_messages(messages: list[dict[str, Any]], system: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        blocks = content_blocks(message)
        texts = [str(b.get("text") or "") for b in blocks if b.get("type") == "text" and b.get("text")]
        images = [b for b in blocks if b.get("type") == "image" and b.get("data")] if role == "user" else []
        if images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": text} for text in texts]
            for image in images:
                url = f"data:{image.get('mimeType') or 'image/png'};base64,{image['data']}"
                parts.append({"type": "image_url", "image_url": {"url": url}})
            out.append({"role": role, "content": parts})
        elif texts:
            out.append({"role": role, "content": "".join(texts) if role == "assistant" else "\n".join(texts)})
    return out


class OpenAICompatProvider:
    api = "openai-completions"

    def __init__(
        self, name: str, *, base_url: str, api_key: str | None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._has_key = bool(api_key)
        # OpenAI itself wants max_completion_tokens; the compatible servers know max_tokens.
        self._official = (urlparse(self.base_url).hostname or "").endswith("api.openai.com")
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            # Ollama and other local servers need no key, but the SDK insists on one.
            api_key=api_key or "not-configured",
            max_retries=0,
            default_headers=dict(headers) if headers else None,
            # The SDK's aiohttp transport (the gateway's own HTTP stack) instead of httpcore:
            # about 1 ms less per request on the way to the first token.
            http_client=openai.DefaultAioHttpClient(),
        )

    async def stream(self, req: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        site = CallSite(self.name, req.model.id, self.base_url, req.timeout_s, self._has_key)
        params: dict[str, Any] = {
            "model": req.model.id,
            "messages": to_openai_messages(req.messages, req.system),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        max_tokens = req.max_tokens or req.model.max_tokens
        if max_tokens:
            params["max_completion_tokens" if self._official else "max_tokens"] = max_tokens
        effort = _REASONING_EFFORT.get(req.thinking or "")
        if effort and req.model.reasoning:
            params["reasoning_effort"] = effort
        usage = Usage()
        stop = "stop"
        try:
            # The SDK's typed create() walks every message through its TypedDict transform and
            # builds a model object per chunk (about 0.1 ms a message and 0.3 ms a chunk, on the
            # path to the first token). The body is plain JSON already, so it goes through the
            # SDK's own post() (same auth, options and errors), and chunks stay plain dicts.
            response = await self._client.post(
                "/chat/completions", body=params, cast_to=ChatCompletion, stream=True,
                stream_cls=openai.AsyncStream[dict[str, Any]],
                options={"timeout": req.timeout_s, "security": {"bearer_auth": True}},
            )
            async with response:
                async for chunk in response:
                    if not isinstance(chunk, dict):
                        continue
                    if isinstance(chunk.get("usage"), dict):
                        usage = _usage(chunk["usage"])
                    for choice in chunk.get("choices") or ():
                        delta = choice.get("delta") if isinstance(choice, dict) else None
                        text = delta.get("content") if isinstance(delta, dict) else None
                        if isinstance(text, str) and text:
                            yield TextDelta(text)
                        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
                        if finish:
                            stop = _FINISH_REASONS.get(finish, "stop")
        except Exception as exc:  # every SDK/transport failure becomes a ProviderError
            raise classify(exc, site) from exc
        yield usage
        yield Stop(stop)

    async def aclose(self) -> None:
        await self._client.close()


def _usage(reported: dict[str, Any]) -> Usage:
    """OpenAI counts cached prompt tokens inside prompt_tokens; pi-ai (and so the transcript)
    counts them apart as cacheRead. DeepSeek reports them as prompt_cache_hit_tokens."""
    prompt = _int(reported.get("prompt_tokens"))
    output = _int(reported.get("completion_tokens"))
    details = reported.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    if not cached:
        cached = _int(reported.get("prompt_cache_hit_tokens"))
    cached = min(cached, prompt)
    return Usage(input=prompt - cached, output=output, cache_read=cached)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0
