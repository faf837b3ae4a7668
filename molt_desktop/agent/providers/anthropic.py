"""The `anthropic-messages` provider: Anthropic and Anthropic-compatible endpoints.

Uses the official SDK (`AsyncAnthropic`) with the configured `baseUrl`, so BigModel/Zhipu and
MiniMax's Anthropic-compatible endpoints work by configuration alone. The SDK's own retries are
off (`max_retries=0`): the runtime decides about retrying and falls back to other models.

Transcript messages become Messages API messages here: text blocks, images as base64 image
blocks; thinking and tool blocks of earlier turns are dropped (this runtime has no tools).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anthropic

from molt_desktop.agent.providers.base import (
    ChatRequest,
    Stop,
    StreamEvent,
    TextDelta,
    Usage,
    content_blocks,
)
from molt_desktop.agent.providers.errors import CallSite, classify

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "toolUse",
    "refusal": "refusal",
}
# Thinking levels -> budget tokens (OpenClaw's /think levels).
_THINKING_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32768}


def normalize_base_url(base_url: str) -> str:
    """The SDK appends `/v1/messages` itself; accept a configured `.../v1` anyway."""
    url = base_url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def to_anthropic_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role not in ("user", "assistant"):
            continue
        blocks: list[dict[str, Any]] = []
        for block in content_blocks(message):
            if block.get("type") == "text" and block.get("text"):
                blocks.append({"type": "text", "text": str(block["text"])})
            elif block.get("type") == "image" and role == "user" and block.get("data"):
                blocks.append({
                    "type": "image",
                    "source": {"type": "base64", "media_type": str(block.get("mimeType") or "image/png"),
                               "data": str(block["data"])},
                })
        if blocks:
            out.append({"role": role, "content": blocks})
    return out


class AnthropicProvider:
    api = "anthropic-messages"

    def __init__(
        self, name: str, *, base_url: str, api_key: str | None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.base_url = normalize_base_url(base_url)
        self._has_key = bool(api_key)
        self._client = anthropic.AsyncAnthropic(
            base_url=self.base_url,
            # Without a key the SDK would look in the environment; a placeholder makes the
            # provider answer 401, which becomes "no API key configured".
            api_key=api_key or "not-configured",
            max_retries=0,
            default_headers=dict(headers) if headers else None,
            # The SDK's aiohttp transport (the gateway's own HTTP stack) instead of httpcore:
            # about 1 ms less per request on the way to the first token.
            http_client=anthropic.DefaultAioHttpClient(),
        )

    async def stream(self, req: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        site = CallSite(self.name, req.model.id, self.base_url, req.timeout_s, self._has_key)
        max_tokens = req.max_tokens or req.model.max_tokens
        params: dict[str, Any] = {
            "model": req.model.id,
            "max_tokens": max_tokens,
            "messages": to_anthropic_messages(req.messages),
            "stream": True,
        }
        if req.system:
            params["system"] = req.system
        budget = _THINKING_BUDGETS.get(req.thinking or "")
        if budget and req.model.reasoning:
            params["thinking"] = {"type": "enabled", "budget_tokens": budget}
            params["max_tokens"] = max(max_tokens, budget + 1024)
        usage = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
        stop = "stop"
        try:
            # Through the SDK's post() with its own options and errors, but with the events as
            # plain dicts: the typed models cost a few tenths of a millisecond per event.
            response = await self._client.post(
                "/v1/messages", body=params, cast_to=anthropic.types.Message, stream=True,
                stream_cls=anthropic.AsyncStream[dict[str, Any]], options={"timeout": req.timeout_s},
            )
            async with response:
                async for event in response:
                    if not isinstance(event, dict):
                        continue
                    kind = event.get("type")
                    if kind == "content_block_delta":
                        delta = event.get("delta") or {}
                        text = delta.get("text")
                        if delta.get("type") == "text_delta" and isinstance(text, str) and text:
                            yield TextDelta(text)
                    elif kind == "message_start":
                        _merge_usage(usage, (event.get("message") or {}).get("usage"))
                    elif kind == "message_delta":
                        _merge_usage(usage, event.get("usage"))
                        reason = (event.get("delta") or {}).get("stop_reason")
                        if reason:
                            stop = _STOP_REASONS.get(reason, "stop")
        except Exception as exc:  # every SDK/transport failure becomes a ProviderError
            raise classify(exc, site) from exc
        yield Usage(**usage)
        yield Stop(stop)

    async def aclose(self) -> None:
        await self._client.close()


def _merge_usage(usage: dict[str, int], reported: Any) -> None:
    """Anthropic reports input at message_start and cumulative output at message_delta;
    compatible endpoints sometimes report everything only at the end."""
    if reported is None:
        return
    for key, attr in (("input", "input_tokens"), ("output", "output_tokens"),
                      ("cache_read", "cache_read_input_tokens"), ("cache_write", "cache_creation_input_tokens")):
        value = reported.get(attr) if isinstance(reported, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            usage[key] = value
