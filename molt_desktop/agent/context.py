"""What goes to the model: the user's message (with images) and the history that fits.

- `parse_attachments` checks `chat.send` attachments (`[{type, mimeType, fileName?, content:
  base64 or data: URL}]`, as OpenClaw's ChatSendParams) and turns images into transcript image
  blocks `{type:"image", data, mimeType}`. Bad input raises `RunRequestError` with the message
  OpenClaw gives ("attachment <name>: invalid base64 content", ...).
- `user_message` builds the transcript user message; chat.send adds OpenClaw 2026.1.29's
  `\\n[message_id: <idempotencyKey>]` suffix.
- `build_context` keeps the newest messages that fit the model's context window (a cheap token
  estimate: ~4 ASCII characters or ~1 CJK character a token, ~1,600 tokens an image), leaving
  room for the reply, and shapes them for the provider APIs (alternating roles, user first;
  context injected at the start of a session is handed over as part of the first user turn).

Provider wire formats are the adapters' business (providers/); storing is the store's.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from molt_desktop.agent.providers.base import ModelInfo, ProviderError, content_blocks

MAX_ATTACHMENT_BYTES = 5_000_000  # decoded, as OpenClaw's chat.send
IMAGE_TOKENS = 1600
MESSAGE_OVERHEAD_TOKENS = 4
# Heads an injected note that reaches the model in a user-role message (see build_context).
INJECTED_CONTEXT_NOTE = "[Context added to this conversation before its first message]"
_DATA_URL = re.compile(r"^data:[^;,]*;base64,(.*)$", re.DOTALL)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class RunRequestError(ValueError):
    """The request cannot start a run (bad message or attachments); the gateway answers
    INVALID_REQUEST with this message."""


def _sniff_mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def parse_attachments(attachments: Any) -> list[dict[str, Any]]:
    """Image blocks `{type:"image", data, mimeType}` from chat.send attachments."""
    if attachments is None:
        return []
    if not isinstance(attachments, list):
        raise RunRequestError("attachments must be a list")
    images: list[dict[str, Any]] = []
    for index, attachment in enumerate(attachments):
        if attachment is None:
            continue
        if not isinstance(attachment, dict):
            raise RunRequestError(f"attachment {index + 1} must be an object")
        label = str(attachment.get("fileName") or attachment.get("type") or f"attachment-{index + 1}")
        content = attachment.get("content")
        if not isinstance(content, str):
            raise RunRequestError(f"attachment {label}: content must be base64 string")
        b64 = content.strip()
        match = _DATA_URL.match(b64)
        if match:
            b64 = match.group(1).strip()
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise RunRequestError(f"attachment {label}: invalid base64 content") from None
        if not raw or len(raw) > MAX_ATTACHMENT_BYTES:
            raise RunRequestError(
                f"attachment {label}: exceeds size limit ({len(raw)} > {MAX_ATTACHMENT_BYTES} bytes)"
                if raw else f"attachment {label}: is empty"
            )
        mime = str(attachment.get("mimeType") or "").split(";")[0].strip().lower() or _sniff_mime(raw)
        if not mime or not mime.startswith("image/"):
            raise RunRequestError(
                f"attachment {label}: only images can be attached (got {mime or 'an unknown file type'})"
            )
        images.append({"type": "image", "data": b64, "mimeType": mime})
    return images


def user_message(text: str, images: list[dict[str, Any]], timestamp: int, message_id: str | None) -> dict[str, Any]:
    """The transcript user message: text (with the message_id suffix for chat.send), then images."""
    body = f"{text}\n[message_id: {message_id}]" if message_id else text
    content: list[dict[str, Any]] = [{"type": "text", "text": body}]
    content.extend(images)
    return {"role": "user", "content": content, "timestamp": timestamp}


def text_tokens(text: str) -> int:
    """~4 ASCII characters a token, ~1 token per other character (CJK and the like)."""
    chars = len(text)
    wide = (len(text.encode("utf-8")) - chars) // 2
    return (chars - wide) // 4 + wide + 1


def estimate_tokens(message: dict[str, Any]) -> int:
    tokens = MESSAGE_OVERHEAD_TOKENS
    for block in content_blocks(message):
        if block.get("type") == "text":
            tokens += text_tokens(str(block.get("text") or ""))
        elif block.get("type") == "image":
            tokens += IMAGE_TOKENS
    return tokens


def _usable(message: dict[str, Any]) -> dict[str, Any] | None:
    """A user/assistant message with text or images, its content as blocks; else None."""
    role = message.get("role")
    if role not in ("user", "assistant"):
        return None
    blocks = [
        b for b in content_blocks(message)
        if (b.get("type") == "text" and b.get("text")) or (b.get("type") == "image" and b.get("data"))
    ]
    return {"role": role, "content": blocks} if blocks else None


def build_context(messages: list[dict[str, Any]], model: ModelInfo, system: str | None = None) -> list[dict[str, Any]]:
    """The newest messages that fit `model`'s context window, oldest first, starting with a user
    message, without two messages of one role in a row (merged). Notes injected before the
    first user message (chat.inject: stopReason "injected") head that message, when the whole
    conversation and they fit. Raises ProviderError (context_length) when even the newest
    message does not fit."""
    merged: list[dict[str, Any]] = []
    # Provider APIs start with a user message, so an assistant message before the first one is
    # dropped; injected context there (a session seeded by another gateway) is kept aside.
    leading: list[dict[str, Any]] = []
    for message in messages:
        usable = _usable(message)
        if usable is None:
            continue
        if not merged and usable["role"] != "user":
            if message.get("stopReason") == "injected":
                leading.extend(usable["content"])
            continue
        if merged and merged[-1]["role"] == usable["role"]:
            merged[-1] = {"role": usable["role"], "content": merged[-1]["content"] + usable["content"]}
        else:
            merged.append(usable)
    reserve = min(model.max_tokens, model.context_window // 4)
    budget = model.context_window - reserve - (text_tokens(system) if system else 0)
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(merged):
        cost = estimate_tokens(message)
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    if merged and not kept:
        need = estimate_tokens(merged[-1])
        raise ProviderError(
            "context_length",
            f"The message is too long for {model.ref}: about {need} tokens, but its context window is "
            f"{model.context_window} tokens. Shorten the message or choose a model with a larger "
            f"contextWindow.",
            provider=model.provider,
            model=model.id,
        )
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    if leading and kept and len(kept) == len(merged):
        head = [{"type": "text", "text": INJECTED_CONTEXT_NOTE}, *leading]
        if used + estimate_tokens({"content": head}) <= budget:
            kept[0] = {"role": "user", "content": [*head, *kept[0]["content"]]}
    return kept


def no_images_message(model: ModelInfo) -> str:
    """Why a message with images cannot go to `model`, and what to do."""
    return (
        f"The model {model.ref} does not accept images (its input in models.providers.{model.provider}.models "
        f"is {list(model.input)}). Remove the image, or choose a model whose input includes \"image\"."
    )
