"""The `agent` and `chat` event payloads of one run, in the shapes the real gateways send.

One `seq` counter per run, as OpenClaw: every `agent` event takes the next number and a `chat`
event carries the number of the agent event it belongs to (a delta the seq of its `assistant`
event, final/error/aborted the seq of the lifecycle end). Payloads are protocol-4 shaped
(`deltaText`, `errorKind`, `state:"status"`, `run_status`/`usage` streams, lifecycle phases
`model` and `fallback_step`); `for_protocol(event, payload, 3)` gives what a protocol-3 client
gets (as recorded from openclaw 2026.1.29), or None when that client gets nothing.

Shapes (`ts`/`startedAt`/`endedAt`/`timestamp` are epoch ms):
- agent: `{runId, stream, data, sessionKey, seq, ts}` with streams
  `lifecycle` {phase:"start", startedAt} | {phase:"model", provider, model} |
  {phase:"fallback_step", fallbackStepFromModel, fallbackStepToModel, fallbackStepFromFailureReason,
  fallbackStepFromFailureDetail, fallbackStepChainPosition} |
  {phase:"end", startedAt, endedAt, stopReason, aborted, provider?, model?} |
  {phase:"error", startedAt, endedAt, error};
  `assistant` {text (all so far), delta}; `run_status` {phase}; `usage` {inputTokens, outputTokens,
  cacheReadTokens, cacheWriteTokens, totalTokens}.
- chat: `{runId, sessionKey, agentId, seq, state, ...}`: `status` {phase}; `delta` {deltaText,
  message}; `final` {stopReason, message (with provider and model), usage}; `error` {errorMessage,
  errorKind, errorDetail}; `aborted` {stopReason, message? (the partial text)}.
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

_P4_AGENT_STREAMS = frozenset({"run_status", "usage"})
_P4_LIFECYCLE_PHASES = frozenset({"model", "fallback_step"})
_P4_CHAT_FIELDS = ("agentId", "deltaText", "errorKind", "errorDetail")


def for_protocol(event: str, payload: dict[str, Any], protocol: int) -> dict[str, Any] | None:
    """The payload a client of `protocol` receives, or None when it receives no such event."""
    if protocol >= 4:
        return payload
    if event == "chat":
        if payload.get("state") == "status":
            return None
        return {k: v for k, v in payload.items() if k not in _P4_CHAT_FIELDS}
    if event == "agent":
        stream = payload.get("stream")
        if stream in _P4_AGENT_STREAMS:
            return None
        data = payload.get("data")
        if stream == "lifecycle" and isinstance(data, dict) and data.get("phase") in _P4_LIFECYCLE_PHASES:
            return None
        return payload
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
        self.agent("run_status", {"phase": phase})
        self.chat("status", phase=phase)

    def model(self, provider: str, model: str) -> None:
        self.agent("lifecycle", {"phase": "model", "provider": provider, "model": model})

    def fallback(self, from_ref: str, to_ref: str, kind: str, detail: str, position: int) -> None:
        self.agent("lifecycle", {
            "phase": "fallback_step", "fallbackStepType": "fallback_step",
            "fallbackStepFromModel": from_ref, "fallbackStepToModel": to_ref,
            "fallbackStepFromFailureReason": kind, "fallbackStepFromFailureDetail": detail,
            "fallbackStepChainPosition": position,
        })

    def delta(self, text: str, delta: str) -> None:
        self.agent("assistant", {"text": text, "delta": delta})
        self.chat("delta", deltaText=delta, message=assistant_message(text, now_ms()))

    def usage(self, usage: dict[str, Any]) -> None:
        self.agent("usage", {
            "inputTokens": usage["input"], "outputTokens": usage["output"],
            "cacheReadTokens": usage["cacheRead"], "cacheWriteTokens": usage["cacheWrite"],
            "totalTokens": usage["totalTokens"],
        })

    def final(self, text: str, started_at: int, stop_reason: str, provider: str, model: str,
              usage: dict[str, Any]) -> int:
        ended = now_ms()
        self.agent("lifecycle", {"phase": "end", "startedAt": started_at, "endedAt": ended,
                                 "stopReason": stop_reason, "aborted": False, "provider": provider, "model": model})
        self.chat("final", stopReason=stop_reason,
                  message=assistant_message(text, ended, provider=provider, model=model), usage=usage)
        return ended

    def error(self, started_at: int | None, message: str, kind: str, detail: dict[str, Any]) -> int:
        ended = now_ms()
        self.agent("lifecycle", {"phase": "error", "startedAt": started_at or ended, "endedAt": ended,
                                 "error": message})
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
