"""What every model provider shares: model descriptions, the request, stream events, errors.

A provider turns a `ChatRequest` (OpenClaw transcript messages) into a stream of `TextDelta`,
then one `Usage` and one `Stop`. Every failure leaves a provider as a `ProviderError` whose
`kind` says what went wrong and whose `message` tells a person what to do about it.

The SDK adapters live in anthropic.py and openai_compat.py, the mapping of SDK exceptions to
`ProviderError` in errors.py, and the config -> provider wiring in registry.py. Nothing here
knows about the gateway, sessions or events.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ApiKind = Literal["anthropic-messages", "openai-completions"]
SUPPORTED_APIS: tuple[str, ...] = ("anthropic-messages", "openai-completions")

ErrorKind = Literal[
    "auth",
    "network",
    "rate_limit",
    "overloaded",
    "timeout",
    "server",
    "context_length",
    "bad_request",
    "refusal",
    "not_configured",
    "unknown",
]

# Failures another model may not share: worth trying the next model in the fallback chain.
FALLBACK_KINDS: frozenset[str] = frozenset({"rate_limit", "overloaded", "timeout", "server", "network"})

# The `errorKind` values the protocol allows on a `chat` error event.
_CHAT_ERROR_KINDS = {
    "rate_limit": "rate_limit",
    "overloaded": "rate_limit",
    "timeout": "timeout",
    "context_length": "context_length",
    "refusal": "refusal",
}


@dataclass(frozen=True)
class ModelRef:
    """`provider/modelId`; the model id may itself contain slashes (`openrouter/a/b`)."""

    provider: str
    model_id: str

    @classmethod
    def parse(cls, ref: str) -> ModelRef:
        provider, sep, model_id = ref.strip().partition("/")
        if not sep or not provider or not model_id:
            raise ValueError(f"model reference {ref!r} is not of the form provider/modelId")
        return cls(provider, model_id)

    def __str__(self) -> str:
        return f"{self.provider}/{self.model_id}"


@dataclass(frozen=True)
class ModelCost:
    """US dollars per million tokens, as OpenClaw's `models.providers.*.models[].cost`."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    id: str
    name: str
    api: str
    context_window: int
    max_tokens: int
    reasoning: bool = False
    input: tuple[str, ...] = ("text",)
    cost: ModelCost = field(default_factory=ModelCost)

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def accepts_images(self) -> bool:
        return "image" in self.input


@dataclass
class ChatRequest:
    """One model call. `messages` are OpenClaw transcript message objects: role user/assistant,
    content a string or a list of `{type:"text", text}` / `{type:"image", data, mimeType}`."""

    model: ModelInfo
    messages: list[dict[str, Any]]
    system: str | None = None
    max_tokens: int | None = None
    thinking: str | None = None
    # Seconds the provider may stay silent (connect, or between two chunks) before `timeout`.
    timeout_s: float = 120.0


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    """Token counts; `input` excludes cached prompt tokens (those are `cache_read`)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class Stop:
    """Why the model stopped, in pi-ai's words: stop, length, toolUse, refusal."""

    reason: str


StreamEvent = TextDelta | Usage | Stop


class ProviderError(Exception):
    """A model call failed. `message` is for people; `kind` is for code (fallbacks, errorKind)."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s
        self.provider = provider
        self.model = model

    @property
    def fallback_ok(self) -> bool:
        """True when the next model in `agents.defaults.model.fallbacks` is worth a try."""
        return self.kind in FALLBACK_KINDS

    @property
    def chat_error_kind(self) -> str:
        """The protocol's `errorKind`: rate_limit, timeout, context_length, refusal or unknown."""
        return _CHAT_ERROR_KINDS.get(self.kind, "unknown")

    def __repr__(self) -> str:
        return f"ProviderError({self.kind!r}, {self.message!r}, status={self.status!r})"


@runtime_checkable
class Provider(Protocol):
    """A configured provider (one `models.providers.<name>` entry)."""

    name: str
    api: str

    def stream(self, req: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yield TextDelta*, then Usage and Stop; raise ProviderError on failure."""
        ...

    async def aclose(self) -> None: ...


def message_text(message: dict[str, Any]) -> str:
    """All text of a transcript message (string content or its text blocks)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text") or "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def content_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The content of a transcript message as blocks (a plain string becomes one text block)."""
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [block for block in content if isinstance(block, dict)]
    return []
