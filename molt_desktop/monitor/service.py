"""The monitor as a service: probes on their intervals, rules, the alert manager and its sinks.

`Monitor(state_dir, config)` runs in the desktop app and in `molt-desktop gateway`:
- the local gateway every `failover.probeIntervalSeconds`: `/readyz`, and in the desktop app the
  endpoint pool's own `health` probe of it (latency); a headless gateway does not connect to itself;
- remote gateways: from the endpoint pool's own probes when there is a pool (the desktop app),
  else probed here on the same interval (a server's gateway watching the others);
- system (CPU, memory, disk), provider error rates and today's spend every
  `alerts.thresholds.checkIntervalSeconds`; an active one-token provider check at most every
  10 minutes for a provider that had no run lately;
- gateway switches of the pool, as the `failover` alert;
- sync (`set_sync_source`): the age of the last good sync every check interval while sync is on.
The alert manager re-checks "for" durations every second. Sinks and rules follow config edits.
Desktop notifications only where there is a desktop (`desktop=True`); a server mails and posts.

Not here: what an alert is and when it fires (rules.py, alerts.py), delivering (sinks/).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from molt_desktop.client.connection import ClientOptions
from molt_desktop.config.secrets import resolve_secret
from molt_desktop.logs import get_logger
from molt_desktop.monitor.alerts import AlertManager
from molt_desktop.monitor.model import Observation, Sink
from molt_desktop.monitor.probes import (
    ACTIVE_CHECK_EVERY,
    RunStats,
    active_provider_check,
    check_local_gateway,
    check_remote,
    system_observations,
)
from molt_desktop.monitor.rules import default_rules

log = get_logger("monitor")

LocalProbe = Callable[[], tuple[str, ClientOptions | None, Any] | None]  # (http base, client options, ssl)
DesktopFallback = Callable[[str, str, str], bool]


def build_sinks(config: Any, *, desktop: bool, desktop_fallback: DesktopFallback | None = None,
                desktop_on_click: Callable[[], None] | None = None) -> list[Sink]:
    """The alert channels of the config (`alerts.desktop/email/webhook`); disabled ones included."""
    from molt_desktop.monitor.sinks.email import EmailSink
    from molt_desktop.monitor.sinks.webhook import WebhookSink

    sinks: list[Sink] = []
    if desktop:
        from molt_desktop.monitor.sinks.desktop import DesktopSink

        sinks.append(DesktopSink(config.alerts.desktop, fallback=desktop_fallback, on_click=desktop_on_click))
    sinks.append(EmailSink(config.alerts.email))
    sinks.append(WebhookSink(config.alerts.webhook))
    return sinks


class Monitor:
    def __init__(self, state_dir: Path, config: Any, *, pool: Any = None, gateway_state: Any = None,
                 local_probe: LocalProbe | None = None, desktop: bool = False,
                 desktop_fallback: DesktopFallback | None = None, host: str | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.config = config  # a ConfigManager
        self.pool = pool
        self.gateway_state = gateway_state
        self.local_probe = local_probe
        self.desktop = desktop
        self.desktop_fallback = desktop_fallback
        self.desktop_on_click: Callable[[], None] | None = None
        self.host = host or socket.gethostname()
        self.stats = RunStats(self.state_dir / "monitor" / "spend.json")
        cfg = config.current.config
        self.manager = AlertManager(default_rules(cfg), self._sinks(cfg),
                                    history_path=self.state_dir / "alerts.jsonl",
                                    repeat_interval=float(cfg.alerts.repeatIntervalSeconds), host=self.host,
                                    sink_timeout=60.0)
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._active_checked: dict[str, float] = {}
        self._started_at = time.time()  # no provider request in the first 10 minutes: a start costs nothing
        self._closing: set[asyncio.Future[Any]] = set()
        self._sync_source: Callable[[], Any] | None = None
        self._sync_since: float | None = None  # when sync was first seen on (the age counts from there at most)

    def _sinks(self, cfg: Any) -> list[Sink]:
        return build_sinks(cfg, desktop=self.desktop, desktop_fallback=self.desktop_fallback,
                           desktop_on_click=self.desktop_on_click)

    def set_desktop_fallback(self, fallback: DesktopFallback | None, *,
                             on_click: Callable[[], None] | None = None) -> None:
        """The UI's own way to show a notification (tray message) when the native one fails, and
        what clicking a notification does (open the Health view)."""
        self.desktop_fallback = fallback
        self.desktop_on_click = on_click
        self._replace_sinks(self._sinks(self.config.current.config))

    def set_sync_source(self, source: Callable[[], Any] | None) -> None:
        """Where the sync status comes from (a SyncStatus: enabled, state, last_good_at, last_error, interval)."""
        self._sync_source = source

    def _replace_sinks(self, sinks: list[Sink]) -> None:
        old = list(self.manager.sinks)
        self.manager.set_sinks(sinks)
        for sink in old:
            self._close_later(sink)

    def _close_later(self, sink: Any) -> None:
        close = getattr(sink, "close", None)
        if close is not None:
            self._closing.add(asyncio.ensure_future(close()))
            self._closing = {t for t in self._closing if not t.done()}

    # --- lifetime -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self.gateway_state is not None:
            self._unsubscribe.append(self.gateway_state.add_listener(self.stats.observe_event))
        if self.pool is not None:
            self._unsubscribe.append(self.pool.subscribe_health(self._pool_health))
            self._unsubscribe.append(self.pool.subscribe_switch(self._pool_switch))
        self._unsubscribe.append(self.config.subscribe(self._config_changed))
        system_observations(self.state_dir)  # primes the CPU counter
        self._spawn(self._every(1.0, self._tick), "monitor-tick")
        self._spawn(self._every(self._probe_interval, self._check_gateways), "monitor-gateways")
        self._spawn(self._every(self._check_interval, self._check_system), "monitor-system")
        self._spawn(self._every(60.0, self._check_providers_actively), "monitor-providers")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(Exception):
                unsubscribe()
        self._unsubscribe.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.manager.stop()
        for sink in list(self.manager.sinks):
            self._close_later(sink)
        await asyncio.gather(*self._closing, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    def _probe_interval(self) -> float:
        return float(self.config.current.config.failover.probeIntervalSeconds)

    def _check_interval(self) -> float:
        return float(self.config.current.config.alerts.thresholds.checkIntervalSeconds)

    async def _every(self, interval: Callable[[], float] | float,
                     step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a probe that breaks must not end the monitor
                log.exception("monitor step %s failed", getattr(step, "__name__", step))
            await asyncio.sleep(interval() if callable(interval) else interval)

    def observe(self, observation: Observation) -> None:
        self.manager.observe(observation)

    # --- steps --------------------------------------------------------------------------------

    async def _tick(self) -> None:
        self.manager.tick()

    async def _check_gateways(self) -> None:
        checks: list[Coroutine[Any, Any, Observation]] = []
        local = self.local_probe() if self.local_probe is not None else None
        if local is not None:
            http_base, options, ssl = local
            link = None
            if self.pool is not None:  # the pool probes the local gateway over the protocol already
                options = None
                link = next((h for h in self.pool.endpoint_health() if h.kind == "local"), None)
            checks.append(check_local_gateway(http_base, options, ssl=ssl, link=link, timeout=self._probe_timeout()))
        if self.pool is None:  # no pool probing the remotes for us
            from molt_desktop.client.pool_endpoints import config_endpoints

            for endpoint in config_endpoints(self.state_dir, self.config)[1:]:
                options = await asyncio.to_thread(endpoint.options)
                checks.append(check_remote(endpoint.id, options, timeout=self._probe_timeout()))
        for observation in await asyncio.gather(*checks):
            self.observe(observation)

    def _probe_timeout(self) -> float:
        return max(2.0, min(10.0, self._probe_interval() * 2))

    async def _check_system(self) -> None:
        for observation in await asyncio.to_thread(system_observations, self.state_dir):
            self.observe(observation)
        for observation in self.stats.provider_observations():
            self.observe(observation)
        for observation in self.stats.spend_observations(self._budgets()):
            self.observe(observation)
        sync = self._sync_observation()
        if sync is not None:
            self.observe(sync)

    def _sync_observation(self) -> Observation | None:
        status = self._sync_source() if self._sync_source is not None else None
        if status is None or not status.enabled:
            self._sync_since = None
            return None
        now = time.time()
        if self._sync_since is None:
            self._sync_since = now
        # Sync just turned on (or the app just started) after a long pause is not stale yet: it
        # gets its intervals to succeed before the age counts from the last good sync.
        since = max(status.last_good_at or 0.0, self._sync_since)
        ok = status.state not in ("waiting", "error") and not status.last_error
        return Observation("sync", "sync", ok=ok, value=round(max(0.0, now - since), 1),
                           detail=status.last_error or "", at=now, data={"interval": float(status.interval)})

    def _budgets(self) -> dict[str, float]:
        providers = self.config.current.config.models.providers
        return {name: float(p.budget.daily) for name, p in providers.items()
                if p.budget is not None and p.budget.daily is not None}

    async def _check_providers_actively(self) -> None:
        """A provider in the model chain with no run for 10 minutes gets one tiny request."""
        cfg = self.config.current.config
        primary = cfg.agents.defaults.model.primary if cfg.agents.defaults.model else None
        if not primary or "/" not in primary:
            return
        name, model_id = primary.split("/", 1)
        provider = cfg.models.providers.get(name)
        if provider is None or not provider.baseUrl:
            return
        now = time.time()
        last = max(self.stats.last_run_at(name) or 0.0, self._active_checked.get(name, self._started_at))
        if now - last < ACTIVE_CHECK_EVERY:
            return
        self._active_checked[name] = now
        key = await asyncio.to_thread(resolve_secret, provider.apiKey)
        await active_provider_check(self.stats, name, provider.baseUrl, provider.api or "openai-completions", key,
                                    model_id, headers=provider.headers)

    # --- the pool and the config ----------------------------------------------------------------

    def _pool_health(self, health: Any) -> None:
        if health.kind != "remote" or health.state == "unknown":
            return
        self.observe(Observation(f"remote.{health.id}", health.id, ok=health.state == "up", value=health.latency_ms,
                                 detail=health.last_error or "", at=time.time()))

    def _pool_switch(self, event: Any) -> None:
        self.observe(Observation("failover", event.to_id if event.to_kind == "remote" else event.from_id or "local",
                                 ok=event.to_kind == "local", detail=event.message, at=time.time(),
                                 data={"reason": event.reason, "url": event.url}))

    def _config_changed(self, loaded: Any) -> None:
        cfg = loaded.config
        self.manager.set_rules(default_rules(cfg))
        self._replace_sinks(self._sinks(cfg))
        self.manager.repeat_interval = float(cfg.alerts.repeatIntervalSeconds)
