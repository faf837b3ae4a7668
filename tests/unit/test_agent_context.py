"""What goes to the model: attachments, the user message, history trimming; usage and cost;
the coalescer and the concurrency gate on their own."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molt_desktop.agent.context import (
    INJECTED_CONTEXT_NOTE,
    MAX_ATTACHMENT_BYTES,
    RunRequestError,
    build_context,
    parse_attachments,
    text_tokens,
    user_message,
)
from molt_desktop.agent.providers.base import ModelCost, ModelInfo, ProviderError, Usage
from molt_desktop.agent.runs import ConcurrencyGate, DeltaCoalescer
from molt_desktop.agent.settings import AgentSettings
from molt_desktop.agent.usage import (
    agent_meta_usage,
    session_token_fields,
    usage_record,
)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PNG = base64.b64encode(PNG_BYTES).decode()


def model(window: int = 1000, max_tokens: int = 100) -> ModelInfo:
    return ModelInfo("p", "m", "m", "openai-completions", window, max_tokens)


def test_attachments_become_image_blocks() -> None:
    images = parse_attachments([
        {"type": "image", "mimeType": "image/png", "fileName": "a.png", "content": PNG},
        {"type": "image", "content": f"data:image/png;base64,{PNG}"},  # data URL, mime sniffed
        None,
    ])
    assert images == [{"type": "image", "data": PNG, "mimeType": "image/png"}] * 2
    assert parse_attachments(None) == []


@pytest.mark.parametrize(("attachment", "message"), [
    ({"type": "image", "mimeType": "image/png", "content": 5}, "attachment image: content must be base64 string"),
    ({"fileName": "x.png", "mimeType": "image/png", "content": "not base64!"}, "attachment x.png: invalid base64 content"),
    ({"fileName": "doc.pdf", "mimeType": "application/pdf", "content": PNG},
     "attachment doc.pdf: only images can be attached (got application/pdf)"),
    ({"fileName": "big.png", "mimeType": "image/png",
      "content": base64.b64encode(b"\x00" * (MAX_ATTACHMENT_BYTES + 1)).decode()},
     f"attachment big.png: exceeds size limit ({MAX_ATTACHMENT_BYTES + 1} > {MAX_ATTACHMENT_BYTES} bytes)"),
    ("text", "attachment 1 must be an object"),
])
def test_bad_attachments_are_refused(attachment: object, message: str) -> None:
    with pytest.raises(RunRequestError) as caught:
        parse_attachments([attachment])
    assert str(caught.value) == message


def test_user_message_shapes() -> None:
    image = {"type": "image", "data": PNG, "mimeType": "image/png"}
    assert user_message("Say hello", [], 5, "k-1") == {
        "role": "user", "content": [{"type": "text", "text": "Say hello\n[message_id: k-1]"}], "timestamp": 5}
    assert user_message("hi", [image], 5, None)["content"] == [{"type": "text", "text": "hi"}, image]


def test_context_keeps_the_newest_messages_that_fit() -> None:
    history = []
    for index in range(20):
        history.append({"role": "user", "content": [{"type": "text", "text": f"q{index} " + "x" * 200}]})
        history.append({"role": "assistant", "content": [{"type": "text", "text": f"a{index} " + "y" * 200}]})
    history.append({"role": "user", "content": "last question"})
    kept = build_context(history, model(window=1000, max_tokens=100))
    assert kept[0]["role"] == "user" and kept[-1]["content"] == [{"type": "text", "text": "last question"}]
    assert 2 < len(kept) < len(history)
    roles = [m["role"] for m in kept]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))


def test_context_merges_same_role_and_drops_empty_and_other_roles() -> None:
    history: list[dict[str, Any]] = [
        {"role": "assistant", "content": [{"type": "text", "text": "orphan"}]},
        {"role": "user", "content": "one"},
        {"role": "user", "content": [{"type": "text", "text": "two"}]},  # a failed turn left no reply
        {"role": "assistant", "content": []},
        {"role": "toolResult", "content": "ignored"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "ok"}]},
        {"role": "user", "content": "three"},
    ]
    assert build_context(history, model()) == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "three"}]},
    ]


def _injected(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}], "stopReason": "injected",
            "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0}}


def test_context_injected_before_the_first_user_message_reaches_the_model() -> None:
    note = {"type": "text", "text": INJECTED_CONTEXT_NOTE}
    orphan = {"role": "assistant", "content": "orphan"}
    history: list[dict[str, Any]] = [
        _injected("[seed]\n\nEarlier: the user's name is Ada."),
        orphan,  # not injected: dropped, as before
        _injected("They prefer short answers."),
        {"role": "user", "content": "What is my name?"},
    ]
    assert build_context(history, model()) == [{"role": "user", "content": [
        note,
        {"type": "text", "text": "[seed]\n\nEarlier: the user's name is Ada."},
        {"type": "text", "text": "They prefer short answers."},
        {"type": "text", "text": "What is my name?"},
    ]}]
    # later turns keep alternating; a note injected after the first user turn stays the assistant's
    history += [{"role": "assistant", "content": "Ada."}, _injected("mid-conversation note"),
                {"role": "user", "content": "Thanks"}]
    kept = build_context(history, model())
    assert [m["role"] for m in kept] == ["user", "assistant", "user"]
    assert kept[0]["content"][0] == note
    assert kept[1]["content"] == [{"type": "text", "text": "Ada."}, {"type": "text", "text": "mid-conversation note"}]


def test_injected_context_goes_first_when_the_window_is_short() -> None:
    question = {"role": "user", "content": "short question"}
    kept = build_context([_injected("x " * 600), question], model(window=400, max_tokens=100))
    assert kept == [{"role": "user", "content": [{"type": "text", "text": "short question"}]}]
    # once the start of the conversation is trimmed away, so is the context before it
    history = [_injected("seed"), {"role": "user", "content": "q " * 700}, {"role": "assistant", "content": "a"},
               question]
    kept = build_context(history, model(window=400, max_tokens=100))
    assert kept == [{"role": "user", "content": [{"type": "text", "text": "short question"}]}]
    assert build_context([_injected("only a note")], model()) == []


def test_a_message_too_big_for_the_window() -> None:
    with pytest.raises(ProviderError) as caught:
        build_context([{"role": "user", "content": "word " * 5000}], model(window=1000))
    assert caught.value.kind == "context_length"
    assert "too long for p/m" in caught.value.message and "context window is 1000 tokens" in caught.value.message


def test_token_estimate_counts_cjk_higher() -> None:
    assert text_tokens("a" * 400) == 101
    assert text_tokens("部署" * 100) == 201


@given(st.text(max_size=300))
def test_token_estimate_never_fails(text: str) -> None:
    assert text_tokens(text) >= 1


def test_usage_and_cost() -> None:
    cost = ModelCost(input=3, output=15, cache_read=0.3, cache_write=3.75)
    record = usage_record(Usage(input=1000, output=500, cache_read=2000, cache_write=100), cost)
    assert list(record) == ["input", "output", "cacheRead", "cacheWrite", "totalTokens", "cost"]
    assert record["totalTokens"] == 3600
    assert record["cost"] == {"input": 0.003, "output": 0.0075, "cacheRead": 0.0006, "cacheWrite": 0.000375,
                              "total": 0.011475}
    zero = usage_record(Usage(input=10, output=11), ModelCost())
    assert zero == {"input": 10, "output": 11, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 21,
                    "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}
    assert session_token_fields(Usage(input=10, output=11, cache_read=5)) == {
        "inputTokens": 10, "outputTokens": 11, "totalTokens": 15}
    assert agent_meta_usage(None)["total"] == 0


def test_settings_from_config() -> None:
    settings = AgentSettings.from_config_dict({"agents": {"defaults": {
        "maxConcurrent": 2, "timeoutSeconds": 30, "requestTimeoutSeconds": 5, "systemPrompt": "Be kind."}}})
    assert settings == AgentSettings(max_concurrent=2, timeout_seconds=30, request_timeout_seconds=5,
                                     system_prompt="Be kind.")
    assert AgentSettings.from_config_dict({"agents": {"defaults": {"maxConcurrent": "x"}}}) == AgentSettings()
    assert AgentSettings.from_config_dict({}) == AgentSettings()


async def test_coalescer_first_at_once_then_batched() -> None:
    sent: list[tuple[str, str]] = []
    coalescer = DeltaCoalescer(0.05, lambda text, delta: sent.append((text, delta)))
    coalescer.push("a")
    assert sent == [("a", "a")]
    for ch in "bcd":
        coalescer.push(ch)
    assert len(sent) == 1
    await asyncio.sleep(0.08)  # the timer sends what is pending
    assert sent == [("a", "a"), ("abcd", "bcd")]
    coalescer.push("e")
    coalescer.flush()
    assert sent[-1] == ("abcde", "e")
    coalescer.push("f")
    coalescer.discard()
    await asyncio.sleep(0.08)
    assert sent[-1] == ("abcde", "e") and coalescer.text == "abcdef"


async def test_gate_limits_and_follows_config_changes() -> None:
    limit = [1]
    gate = ConcurrencyGate(lambda: limit[0])
    order: list[str] = []
    release = asyncio.Event()

    async def job(name: str) -> None:
        async with gate.hold():
            order.append(f"start {name}")
            await release.wait()
            order.append(f"end {name}")

    tasks = [asyncio.create_task(job(n)) for n in "abc"]
    await asyncio.sleep(0.01)
    assert order == ["start a"] and gate.active == 1 and gate.waiting == 2
    tasks[1].cancel()  # a waiter that gives up leaves the queue
    await asyncio.sleep(0.01)
    limit[0] = 2
    release.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["start a", "end a", "start c", "end c"]
    assert gate.active == 0
