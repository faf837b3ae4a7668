"""The agent runtime: runs one model turn per chat.send / agent request.

A run: wait for its session's lane and a free slot (`agents.defaults.maxConcurrent`), store the
user message, take the history that fits the model's context window, stream the reply from the
provider, and send `agent`/`chat` events as it goes (events.py). On success the assistant
message (api, provider, model, usage with cost, stopReason, timestamp) goes to the transcript
and the session entry gets the token counts and model; then the final event. Errors a fallback
model may not share (rate limit, overload, timeout, 5xx, network) move on to the next model of
`agents.defaults.model.fallbacks` while no text has been streamed yet; the final event names the
model that answered. `abort` cancels a run (partial text is kept, stopReason "aborted");
a repeated idempotency key gets `in_flight` or, for 5 minutes, the cached result.

Store calls block (file I/O), so they run in `asyncio.to_thread`. Every run task is kept in
`_runs` until it ends; `stop()` aborts and awaits them and closes the provider clients.
Provider adapters: providers/. Event shapes: events.py. Run pieces and queues: runs.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from molt_desktop.agent.context import (
    RunRequestError,
    build_context,
    no_images_message,
    parse_attachments,
)
from molt_desktop.agent.events import Emit, RunEvents
from molt_desktop.agent.providers.base import (
    ChatRequest,
    ModelInfo,
    Provider,
    ProviderError,
    Stop,
    TextDelta,
    Usage,
)
from molt_desktop.agent.providers.registry import ProviderRegistry, no_provider_message
from molt_desktop.agent.recorder import RunRecorder, SessionStoreLike
from molt_desktop.agent.runs import (
    ConcurrencyGate,
    DeltaCoalescer,
    Outcome,
    Run,
    RunKind,
    SessionLanes,
)
from molt_desktop.agent.settings import AgentSettings
from molt_desktop.agent.turns import THINKING_LEVELS, TurnStart, override_ref, read_turn, store_user_message
from molt_desktop.clock import monotonic, now_ms
from molt_desktop.logs import get_logger

__all__ = ["AgentRuntime", "AgentSettings", "AgentUnavailableError", "RunRequestError"]

log = get_logger("agent")

IDEMPOTENCY_TTL_S = 300.0
COALESCE_INTERVAL_S = 0.05
DEFAULT_WAIT_MS = 30_000


class AgentUnavailableError(RuntimeError):
    """The runtime is shutting down; the gateway answers UNAVAILABLE."""


def agent_id_of(session_key: str) -> str:
    parts = session_key.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "agent" and parts[1] else "main"


class AgentRuntime:
    def __init__(
        self,
        store: SessionStoreLike,
        registry_factory: Callable[[], ProviderRegistry],
        settings: Callable[[], AgentSettings],
        emit: Emit,
        *,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_S,
        coalesce_interval_s: float = COALESCE_INTERVAL_S,
    ) -> None:
        """`registry_factory` returns the current registry (the same object until the config
        changes). The runtime closes a registry it no longer gets once no run uses it, and the
        last one on stop()."""
        self._store = store
        self._registry_factory = registry_factory
        self._settings = settings
        self._emit = emit
        self._ttl = idempotency_ttl_s
        self._coalesce = coalesce_interval_s
        self._runs: dict[str, Run] = {}
        self._outcomes: dict[str, tuple[float, Outcome]] = {}
        self._waiters: dict[str, list[asyncio.Future[Outcome]]] = {}
        self._gate = ConcurrencyGate(lambda: self._settings().max_concurrent)
        self._lanes = SessionLanes()
        self._registry_now: ProviderRegistry | None = None
        self._retired: list[ProviderRegistry] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._recorder = RunRecorder(store, emit)
        self._stopping = False
        self._warmup: asyncio.Task[None] | None = None
        self._warmed_registry: ProviderRegistry | None = None

    @classmethod
    def from_config(
        cls, store: SessionStoreLike, config: Any, emit: Emit,
        *, resolve_secret: Callable[[str | None], str | None] | None = None,
    ) -> AgentRuntime:
        """Wire to a ConfigManager-like object (`.current.resolved`, `.current.hash`): registry
        and settings are rebuilt when the config's hash changes."""
        if resolve_secret is None:
            from molt_desktop.config.secrets import resolve_secret as keyring_resolver

            resolve_secret = keyring_resolver
        cache: dict[str, Any] = {"hash": object()}

        def current() -> tuple[ProviderRegistry, AgentSettings]:
            loaded = config.current
            if cache["hash"] != loaded.hash:
                resolved = loaded.resolved if isinstance(loaded.resolved, dict) else {}
                cache.update(hash=loaded.hash, settings=AgentSettings.from_config_dict(resolved),
                             registry=ProviderRegistry.from_config_dict(resolved, resolve_secret=resolve_secret))
            return cache["registry"], cache["settings"]

        return cls(store, lambda: current()[0], lambda: current()[1], emit)

    async def start(self) -> None:
        """Warm up in the background: create the default model's client (importing its SDK
        takes about a second) so the first reply does not wait for it. Safe to call again."""
        if self._warmup is not None and not self._warmup.done():
            return  # already warming up (start() may be called again, e.g. when a client connects)
        registry = self._registry()  # on the loop: the registry object is ours from here on
        if registry is self._warmed_registry:
            return  # warm already, and the providers have not changed since
        self._warmed_registry = registry
        self._warmup = asyncio.get_running_loop().create_task(asyncio.to_thread(self._warm, registry))

    @staticmethod
    def _warm(registry: ProviderRegistry) -> None:
        try:
            ref = registry.default_ref()
            if ref:
                registry.resolve(ref)
        except Exception as exc:  # a config problem shows up in readiness and in the run
            log.info("model provider warm-up skipped: %s", exc)

    # -- requests ----------------------------------------------------------------------------
    async def send(
        self, session_key: str, message: str, idempotency_key: str, *,
        attachments: Any = None, thinking: str | None = None, timeout_ms: int | None = None,
    ) -> dict[str, Any]:
        """chat.send: `{runId, status:"started"}`, `{runId, status:"in_flight"}` while that key
        runs, or its cached result (`status` ok/error/aborted) for 5 minutes after."""
        state, found = await self._accept("chat", session_key, message, idempotency_key, attachments, thinking,
                                          timeout_ms / 1000 if timeout_ms else None)
        if isinstance(found, Outcome):
            return found.chat_result()
        return {"runId": found.run_id, "status": state}

    async def run_agent(
        self, message: str, idempotency_key: str, session_key: str | None = None, *,
        attachments: Any = None, thinking: str | None = None, timeout_ms: int | None = None,
    ) -> tuple[dict[str, Any], Awaitable[dict[str, Any]]]:
        """The agent method: (`{runId, status:"accepted", acceptedAt}`, the final result)."""
        key = session_key or "agent:main:main"
        state, found = await self._accept("agent", key, message, idempotency_key, attachments, thinking,
                                          timeout_ms / 1000 if timeout_ms else None)
        result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if isinstance(found, Outcome):
            result.set_result(found.agent_result())
            return {"runId": found.run_id, "status": "accepted", "acceptedAt": found.ended_at}, result
        assert found.done is not None

        def deliver(done: asyncio.Future[Outcome]) -> None:
            if not result.done():
                result.set_result(done.result().agent_result())

        found.done.add_done_callback(deliver)
        status = "in_flight" if state == "in_flight" else "accepted"
        return {"runId": found.run_id, "status": status, "acceptedAt": found.accepted_at}, result

    async def abort(self, session_key: str, run_id: str | None = None) -> list[str]:
        """chat.abort: the ids of the runs aborted (their `aborted` events are out on return)."""
        if run_id:
            run = self._runs.get(run_id)
            if run is None:
                return []
            if run.session_key != session_key:
                raise RunRequestError("runId does not match sessionKey")
            targets = [run]
        else:
            targets = [r for r in self._runs.values() if r.session_key == session_key]
        aborted = [r for r in targets if self._abort_run(r, "rpc")]
        pending = [r.done for r in aborted if r.done is not None]
        if pending:
            await asyncio.wait(pending, timeout=10)
        return [r.run_id for r in aborted]

    async def wait(self, run_id: str, timeout_ms: int = DEFAULT_WAIT_MS) -> dict[str, Any]:
        """agent.wait: `{runId, status:"ok"|"error"|"timeout", startedAt, endedAt, error?}`."""
        outcome = self._cached(run_id)
        if outcome is not None:
            return outcome.wait_result()
        run = self._runs.get(run_id)
        waiter: asyncio.Future[Outcome]
        if run is not None and run.done is not None:
            waiter = run.done
        else:  # not started yet (or never will be): wait for a run with that id to end
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(run_id, []).append(waiter)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(waiter), max(0, timeout_ms) / 1000)
        except TimeoutError:
            return {"runId": run_id, "status": "timeout"}
        finally:
            waiters = self._waiters.get(run_id)
            if waiters and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[run_id]
        return outcome.wait_result()

    def active_runs(self) -> list[dict[str, Any]]:
        return [run.describe() for run in self._runs.values()]

    def session_lane(self, session_key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold a session's lane: its running turn ends first, and no new one starts meanwhile."""
        return self._lanes.hold(session_key)

    def current_registry(self) -> ProviderRegistry:
        return self._registry()

    def readiness_problems(self) -> list[str]:
        """What keeps the runtime from answering, e.g. "no model provider configured"."""
        try:
            return self._registry_factory().problems()
        except Exception as exc:
            return [f"model providers: {exc}"]

    async def stop(self) -> None:
        """Abort every run, wait for them to finish their bookkeeping, close provider clients."""
        self._stopping = True
        if self._warmup is not None:
            await asyncio.gather(self._warmup, return_exceptions=True)
        runs = list(self._runs.values())
        for run in runs:
            self._abort_run(run, "shutdown")
        tasks = [r.task for r in runs if r.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        registries = [*self._retired, *([self._registry_now] if self._registry_now else [])]
        self._retired, self._registry_now = [], None
        for registry in registries:
            await registry.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # -- accepting ---------------------------------------------------------------------------
    async def _accept(
        self, kind: RunKind, session_key: str, message: Any, key: str, attachments: Any,
        thinking: str | None, timeout_s: float | None,
    ) -> tuple[str, Run | Outcome]:
        """("started", new run) | ("in_flight", running run) | ("cached", outcome)."""
        if self._stopping:
            raise AgentUnavailableError("The agent runtime is shutting down; try again in a moment.")
        existing = self._existing(key)
        if existing is not None:
            return existing
        if not isinstance(message, str):
            raise RunRequestError("message must be a string")
        images = parse_attachments(attachments)
        if not message.strip() and not images:
            raise RunRequestError("message or attachment required")
        if images:
            await self._check_images(session_key)
        existing = self._existing(key)  # the same key may have arrived while we checked
        if existing is not None:
            return existing
        run = Run(run_id=key, kind=kind, session_key=session_key, agent_id=agent_id_of(session_key),
                  message=message, images=images,
                  thinking=thinking if thinking in THINKING_LEVELS else None, timeout_s=timeout_s)
        loop = asyncio.get_running_loop()
        run.done = loop.create_future()
        self._runs[key] = run
        run.task = loop.create_task(self._run(run), name=f"agent-run:{key}")
        return "started", run

    def _existing(self, key: str) -> tuple[str, Run | Outcome] | None:
        self._sweep()
        outcome = self._cached(key)
        if outcome is not None:
            return "cached", outcome
        run = self._runs.get(key)
        return ("in_flight", run) if run is not None else None

    def _cached(self, key: str) -> Outcome | None:
        entry = self._outcomes.get(key)
        return entry[1] if entry is not None and entry[0] > monotonic() else None

    def _sweep(self) -> None:
        now = monotonic()
        for key in [k for k, (expires, _) in self._outcomes.items() if expires <= now]:
            del self._outcomes[key]

    async def _check_images(self, session_key: str) -> None:
        """Refuse images at once when the model that would answer cannot read them."""
        registry = self._registry()
        try:
            entry = await asyncio.to_thread(self._store.get, session_key)
            chain = registry.model_chain(override_ref(entry))
            model = registry.find_model(chain[0]) if chain else None
        except (ProviderError, ValueError, OSError):
            return  # the run itself reports what is wrong
        if model is not None and not model.accepts_images:
            raise RunRequestError(no_images_message(model))

    def _abort_run(self, run: Run, reason: str) -> bool:
        if run.abort_reason is not None or run.finishing or run.task is None or run.task.done():
            return False
        run.abort_reason = reason
        run.task.cancel()
        return True

    # -- registries ----------------------------------------------------------------------------
    def _registry(self) -> ProviderRegistry:
        registry = self._registry_factory()
        if registry is not self._registry_now:
            if self._registry_now is not None:
                self._retired.append(self._registry_now)
            self._registry_now = registry
        return registry

    def _close_unused_registries(self) -> None:
        in_use = {id(run.registry) for run in self._runs.values()}
        for registry in [r for r in self._retired if id(r) not in in_use]:
            self._retired.remove(registry)
            task = asyncio.get_running_loop().create_task(registry.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    # -- running -------------------------------------------------------------------------------
    async def _run(self, run: Run) -> None:
        events = RunEvents(self._emit, run.run_id, run.session_key, run.agent_id)
        coalescer = DeltaCoalescer(self._coalesce, events.delta)
        outcome: Outcome | None = None
        try:
            async with self._lanes.hold(run.session_key), self._gate.hold():
                outcome = await self._run_held(run, events, coalescer)
        except asyncio.CancelledError:
            if run.abort_reason is None:
                raise
            # Aborted while still queued: nothing was stored or streamed.
            outcome = Outcome("aborted", run.run_id, run.session_key)
            events.aborted(None, "", run.abort_reason)
        finally:
            coalescer.discard()
            run.state = "done"
            self._runs.pop(run.run_id, None)
            if outcome is None:
                outcome = Outcome("error", run.run_id, run.session_key,
                                  error=ProviderError("unknown", "The run was interrupted."))
            self._outcomes[run.run_id] = (monotonic() + self._ttl, outcome)
            for waiter in [run.done, *self._waiters.pop(run.run_id, [])]:
                if waiter is not None and not waiter.done():
                    waiter.set_result(outcome)
            self._close_unused_registries()

    async def _run_held(self, run: Run, events: RunEvents, coalescer: DeltaCoalescer) -> Outcome:
        run.state = "running"
        run.started_at = now_ms()
        events.start(run.started_at)
        timeout_s = run.timeout_s or self._settings().timeout_seconds
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    return await self._execute(run, events, coalescer)
            except TimeoutError:
                if run.model is None and not coalescer.text and run.attempt_started_at is None:
                    raise ProviderError("timeout", f"The run did not start within {timeout_s:g} s (timeout).") from None
                where = run.model.ref if run.model else "the model"
                raise ProviderError(
                    "timeout",
                    f"{where} did not finish the reply within {timeout_s:g} s (timeout). Ask for a shorter "
                    f"answer, or raise agents.defaults.timeoutSeconds.",
                    provider=run.model.provider if run.model else None, model=run.model.id if run.model else None,
                ) from None
        except asyncio.CancelledError:
            if run.abort_reason is None:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            await self._user_written(run, quiet=True)
            return await self._recorder.aborted(run, events, coalescer)
        except ProviderError as err:
            await self._user_written(run, quiet=True)
            return await self._recorder.failed(run, events, coalescer, err)
        except Exception as exc:
            await self._user_written(run, quiet=True)
            log.exception("run %s failed", run.run_id)
            if isinstance(exc, OSError):
                message = f"Could not save the conversation: {exc}"
            elif isinstance(exc, (ValueError, KeyError)):
                message = f"The session {run.session_key!r} cannot be used: {exc}"
            else:
                message = f"Internal error: {exc}"
            return await self._recorder.failed(run, events, coalescer, ProviderError("unknown", message))

    async def _execute(self, run: Run, events: RunEvents, coalescer: DeltaCoalescer) -> Outcome:
        events.status("preparing_context")
        registry = self._registry()
        run.registry = registry
        settings = self._settings()
        # One trip to a worker thread to read what the model needs (keyring, files); the user
        # message is then written and fsynced while the request is on its way (see _user_written).
        start = await asyncio.to_thread(read_turn, self._store, run, registry)
        candidates, messages = start.candidates, start.messages
        run.user_write = asyncio.ensure_future(self._write_user_message(run, start))
        run.user_write.add_done_callback(lambda done: self._user_message_stored(run, done))
        events.status("starting_model")
        last_error: ProviderError | None = None
        for position, (provider, model) in enumerate(candidates):
            later = candidates[position + 1][1] if position + 1 < len(candidates) else None
            if run.images and not model.accepts_images:
                if position == 0:
                    raise ProviderError("bad_request", no_images_message(model), provider=model.provider,
                                        model=model.id)
                continue  # this fallback cannot read the images
            try:
                context = build_context(messages, model, settings.system_prompt)
                run.model = model
                return await self._attempt(run, events, coalescer, provider, model, context, settings)
            except ProviderError as err:
                if not (err.fallback_ok and later is not None and not coalescer.text):
                    raise
                log.warning("run %s: %s failed (%s), trying %s", run.run_id, model.ref, err.kind, later.ref)
                events.fallback(model.ref, later.ref, err.kind, err.message)
                coalescer.restart()
                last_error = err
        raise last_error or ProviderError("not_configured", no_provider_message())

    async def _write_user_message(self, run: Run, start: TurnStart) -> dict[str, Any] | None:
        # Start writing once the request has left: both need the interpreter, and the model's
        # first token takes longer than the write.
        await asyncio.sleep(0)
        return await asyncio.to_thread(store_user_message, self._store, run, start)

    def _user_message_stored(self, run: Run, done: asyncio.Future[dict[str, Any] | None]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._recorder.session_changed(run, done.result(), "user-message")

    @staticmethod
    async def _user_written(run: Run, *, quiet: bool = False) -> None:
        """Wait until the user message is on disk: before the first reply text goes out and before
        anything else of the run is stored. `quiet` swallows a failed write (the run is failing)."""
        if run.user_write is None:
            return
        try:
            await asyncio.shield(run.user_write)
        except Exception:
            if not quiet:
                raise

    async def _attempt(
        self, run: Run, events: RunEvents, coalescer: DeltaCoalescer, provider: Provider, model: ModelInfo,
        context: list[dict[str, Any]], settings: AgentSettings,
    ) -> Outcome:
        request = ChatRequest(model=model, messages=context, system=settings.system_prompt,
                              max_tokens=model.max_tokens, thinking=run.thinking,
                              timeout_s=settings.request_timeout_seconds)
        run.attempt_started_at = now_ms()
        usage: Usage | None = None
        stop = "stop"
        async with contextlib.aclosing(provider.stream(request)) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    if not run.user_stored:
                        await self._user_written(run)
                    coalescer.push(event.text)
                elif isinstance(event, Usage):
                    usage = event
                elif isinstance(event, Stop):
                    stop = event.reason
        await self._user_written(run)
        coalescer.flush()
        if stop == "refusal":
            raise ProviderError("refusal", f"{model.ref} declined to answer this request (refusal).",
                                provider=model.provider, model=model.id)
        return await self._recorder.answered(run, events, model, usage, stop, coalescer.text)

