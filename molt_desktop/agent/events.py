"""The `agent` and `chat` event payloads of one run, in the shapes the real gateways send.

One `seq` counter per run, as OpenClaw: every `agent` event takes the next number and a `chat`
event carries the number of the agent event it belongs to (a delta the seq of its `assistant`
event, final/error/aborted the seq of the lifecycle end). Only events both protocols know take
a number, so the sequence is gapless for protocol-3 clients as well (openclaw 2026.1.29 sent
1, 2, 3, ...). Payloads are protocol-4 shaped (`agentId`, `deltaText`, `errorKind`,
`errorDetail`, chat `state:"status"`); `for_protocol(event, payload, 3)` gives what a protocol-3
client gets, or None when it gets nothing.

Shapes (`ts`/`startedAt`/`endedAt`/`timestamp` are epoch ms):
- agent: `{runId, stream, data, sessionKey, seq, ts}` with streams
  `lifecycle` {phase:"start", startedAt} |
  {phase:"end", startedAt, endedAt, stopReason, aborted, provider?, model?, fallbacks?} |
  {phase:"error", startedAt, endedAt, error, fallbacks?}; `fallbacks` lists the models that failed
  before: [{from, to, reason (the ProviderError kind), error (its message)}];
  `assistant` {text (all so far), delta}.
- chat: `{runId, sessionKey, agentId, seq, state, ...}`: `status` {phase: preparing_context |
  starting_model}; `delta` {deltaText, message}; `final` {stopReason, message (with provider and
  model: who answered), usage}; `error` {errorMessage, errorKind, errorDetail}; `aborted`
  {stopReason, message? (the partial text)}.
The official schema's AgentEvent has no `sessionKey`, but both real gateways send it (and
clients route by it), so it is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from molt_desktop.clock import now_ms
from molt_desktop.logs import get_logger

log = get_logger("agent")

Emit = Callable[[str, dict[str, Any]], None]

_P4_CHAT_FIELDS = ("agentId", "deltaText", "errorKind", "errorDetail")


def for_protocol(event: str, payload: dict[str, Any], protocol: int) -> dict[str, Any] | None:
    """The payload a client of `protocol` receives, or None when it receives no such event."""
    if protocol >= 4:
        return payload
    if event == "chat":
        if payload.get("state") == "status":
            return None
        return {k: v for k, v in payload.items() if k not in _P4_CHAT_FIELDS}
    if event == "sessions.changed":
        return None
    return payload


def assistant_message(text: str, timestamp: int, **extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": text}] if text else []
    return {"role": "assistant", "content": content, "timestamp": timestamp, **extra}


class RunEvents:
    """Emits the events of one run; `emit` is the gateway's publish (never allowed to break a run)."""

    def __init__(self, emit: Emit, run_id: str, session_key: str, agent_id: str) -> None:
        self._emit = emit
        self.run_id = run_id
        self.session_key = session_key
        self.agent_id = agent_id
        self.seq = 0
        self.fallbacks: list[dict[str, str]] = []

    def _send(self, event: str, payload: dict[str, Any]) -> None:
        try:
            self._emit(event, payload)
        except Exception:
            log.exception("emitting a %s event failed", event)

    def agent(self, stream: str, data: dict[str, Any]) -> None:
        self.seq += 1
        self._send("agent", {"runId": self.run_id, "stream": stream, "data": data,
                             "sessionKey": self.session_key, "seq": self.seq, "ts": now_ms()})

    def chat(self, state: str, **fields: Any) -> None:
        self._send("chat", {"runId": self.run_id, "sessionKey": self.session_key, "agentId": self.agent_id,
                            "seq": self.seq, "state": state, **fields})

    # -- the steps of a run, in order --------------------------------------------------------
    def start(self, started_at: int) -> None:
        self.agent("lifecycle", {"phase": "start", "startedAt": started_at})

    def status(self, phase: str) -> None:
        """Protocol 4's startup phases; they take no seq number of their own."""
        self.chat("status", phase=phase)

    def fallback(self, from_ref: str, to_ref: str, kind: str, detail: str) -> None:
        """A model failed and the next one is asked: told in the lifecycle end event."""
        self.fallbacks.append({"from": from_ref, "to": to_ref, "reason": kind, "error": detail})

    def delta(self, text: str, delta: str) -> None:
        self.agent("assistant", {"text": text, "delta": delta})
        self.chat("delta", deltaText=delta, message=assistant_message(text, now_ms()))

    def final(self, text: str, started_at: int, stop_reason: str, provider: str, model: str,
              usage: dict[str, Any]) -> int:
        ended = now_ms()
        data: dict[str, Any] = {"phase": "end", "startedAt": started_at, "endedAt": ended, "stopReason": stop_reason,
                                "aborted": False, "provider": provider, "model": model}
        if self.fallbacks:
            data["fallbacks"] = self.fallbacks
        self.agent("lifecycle", data)
        self.chat("final", stopReason=stop_reason,
                  message=assistant_message(text, ended, provider=provider, model=model), usage=usage)
        return ended

    def error(self, started_at: int | None, message: str, kind: str, detail: dict[str, Any]) -> int:
        ended = now_ms()
        data: dict[str, Any] = {"phase": "error", "startedAt": started_at or ended, "endedAt": ended, "error": message}
        if self.fallbacks:
            data["fallbacks"] = self.fallbacks
        self.agent("lifecycle", data)
        self.chat("error", errorMessage=message, errorKind=kind, errorDetail=detail)
        return ended

    def aborted(self, started_at: int | None, partial: str, stop_reason: str) -> int:
        ended = now_ms()
        if started_at is not None:
            self.agent("lifecycle", {"phase": "end", "startedAt": started_at, "endedAt": ended,
                                     "stopReason": stop_reason, "aborted": True})
        fields: dict[str, Any] = {"stopReason": stop_reason}
        if partial.strip():
            fields["message"] = assistant_message(partial, ended)
        self.chat("aborted", **fields)
        return ended
