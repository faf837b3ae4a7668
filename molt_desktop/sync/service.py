"""SyncService: runs the sync engine while `sync.enabled`, on its triggers, and keeps the status people see.

Triggers: every `sync.intervalSeconds` a push and a pull; with `sync.watch`, a push soon after a
session file changed (watcher.py, debounced); `sync_now()` (tray, Settings). One run at a time.
A failing run (server unreachable, authentication, a lost connection) is retried after 5 s,
doubling up to min(interval, 300 s), with jitter, for as long as it fails; the engine resumes
where it stopped. A push that would archive more than half of the remote files stops pushes
(pulls go on) until `sync_now(confirm_mass_delete=True)`. A lock held by another process of
this device (`molt-desktop sync now`) is retried soon and is not an error. Config edits are
followed: turning sync on or off, or pointing it elsewhere (a new connection), needs no restart.

The status (last good sync, last attempt, error, last report, fingerprint, pending confirmation)
is kept in `<state>/sync/status.json` and shared with the CLI: a `molt-desktop sync now` while the
app runs counts for the app too (`status` re-reads the file when it changed).

Not here: the transfer (engine.py), the backends and settings (settings.py), the watching
(watcher.py), the UI (ui/).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from molt_desktop.config.schema_molt import SyncConfig
from molt_desktop.fileio import atomic_write_json, ensure_private_dir
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.sync import settings
from molt_desktop.sync.backend import Backend, SyncBackendError
from molt_desktop.sync.engine import SyncEngine, SyncLocked, SyncNeedsConfirmation, SyncReport
from molt_desktop.sync.watcher import SessionWatcher

log = get_logger("sync")

SyncState = Literal["off", "idle", "running", "waiting", "needs_confirmation", "error"]
STATUS_FILE = "status.json"
RETRY_BASE = 5.0
RETRY_CAP = 300.0
LOCK_RETRY = 5.0


class SyncDisabled(Exception):
    """`sync_now` while sync is turned off."""

    def __init__(self) -> None:
        super().__init__(_("Sync is turned off. Turn it on in Settings > Sync (sync.enabled)."))


@dataclass
class SyncStatus:
    enabled: bool
    state: SyncState
    last_good_at: float | None = None  # time.time() of the last run whose push and pull succeeded
    last_attempt_at: float | None = None
    last_error: str | None = None
    next_run_at: float | None = None
    last_report: dict[str, Any] | None = None  # SyncReport.as_json() of the last run
    fingerprint: str | None = None  # SSH host key fingerprint in use (SFTP)
    pending: tuple[int, int] | None = None  # (archive_count, remote_count) waiting for confirmation
    interval: float = 600.0


# --- the status file, shared with the CLI -----------------------------------------------------------


def status_path(state_dir: Path) -> Path:
    return settings.sync_dir(state_dir) / STATUS_FILE


def read_status_file(state_dir: Path) -> dict[str, Any]:
    try:
        raw = json.loads(status_path(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def write_status_file(state_dir: Path, record: dict[str, Any]) -> None:
    """Write this run's record; a newer last good sync already in the file (another process) is kept."""
    old = read_status_file(state_dir)
    merged = dict(record)
    good = [v for v in (old.get("lastGoodAt"), record.get("lastGoodAt")) if isinstance(v, (int, float))]
    merged["lastGoodAt"] = max(good) if good else None
    path = status_path(state_dir)
    ensure_private_dir(path.parent)
    atomic_write_json(path, merged)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _pending(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    return None


# --- the service -------------------------------------------------------------------------------------


class SyncService:
    def __init__(self, state_dir: Path, config: Any) -> None:
        self.state_dir = Path(state_dir)
        self.config = config  # a ConfigManager
        self.retry_base = RETRY_BASE
        self.lock_retry = LOCK_RETRY
        cfg = self._cfg()
        self._status = SyncStatus(enabled=cfg.enabled, state="off", interval=float(cfg.intervalSeconds))
        self._file_mtime: float | None = None
        self._absorb_file()
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._ev: asyncio.AbstractEventLoop | None = None
        self._respawn: asyncio.TimerHandle | None = None
        self._wake: asyncio.Event | None = None
        self._run_lock: asyncio.Lock | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._watcher: SessionWatcher | None = None
        self._backend: Backend | None = None
        self._engine: SyncEngine | None = None
        self._engine_key: str | None = None
        self._key = self._settings_key(cfg)
        self._device_id: str | None = None
        self._next_full = 0.0  # loop time of the next push + pull
        self._retry_at: float | None = None  # loop time of the next attempt after a failure
        self._failures = 0
        self._push_wanted = False

    # --- public -----------------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        self._absorb_file()
        return replace(self._status)

    def subscribe(self, cb: Callable[[SyncStatus], None]) -> Callable[[], None]:
        self._subscribers.append(cb)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(cb)

        return unsubscribe

    async def start(self) -> None:
        if self._task is not None:
            return
        self._ev = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._run_lock = asyncio.Lock()
        self._unsubscribe = self.config.subscribe(self._config_changed)
        self._next_full = self._ev.time()  # a first run right away
        self._task = self._ev.create_task(self._loop(), name="sync")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            with contextlib.suppress(Exception):
                self._unsubscribe()
            self._unsubscribe = None
        if self._respawn is not None:
            self._respawn.cancel()
            self._respawn = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._stop_watcher()
        await self._close_backend()

    async def sync_now(self, confirm_mass_delete: bool = False) -> SyncReport:
        """One push and one pull now. Raises SyncDisabled, SyncLocked, SyncNeedsConfirmation, SyncBackendError."""
        if not self._cfg().enabled:
            raise SyncDisabled()
        return await self._attempt(push=True, pull=True, confirm=confirm_mass_delete)

    # --- config -----------------------------------------------------------------------------------

    def _cfg(self) -> SyncConfig:
        return self.config.current.config.sync  # type: ignore[no-any-return]

    @staticmethod
    def _settings_key(cfg: SyncConfig) -> str:
        fields = cfg.model_dump(exclude={"enabled", "intervalSeconds", "watch"})
        return json.dumps(fields, sort_keys=True, default=str)

    def _config_changed(self, loaded: Any) -> None:
        cfg: SyncConfig = loaded.config.sync
        key = self._settings_key(cfg)
        changed = key != self._key or cfg.enabled != self._status.enabled
        if key != self._key:
            self._key = key
            self._status.pending = None  # another server: what was pending is about the old one
            self._status.fingerprint = None
        self._status.interval = float(cfg.intervalSeconds)
        if changed:
            self._status.enabled = cfg.enabled
            self._retry_at, self._failures = None, 0
            if self._ev is not None:
                self._next_full = self._ev.time()
        self._kick()

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # --- the loop ---------------------------------------------------------------------------------

    async def _loop(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The loop machinery itself failed (e.g. the task was stepped while the event loop was not
            # running): start over a little later instead of spinning or dying.
            log.exception("sync loop failed; starting it again")
            assert self._ev is not None
            self._respawn = self._ev.call_later(self.retry_base, self._restart)

    def _restart(self) -> None:
        self._respawn = None
        if self._ev is not None and self._task is not None and self._task.done():
            self._task = self._ev.create_task(self._loop(), name="sync")

    async def _run(self) -> None:
        assert self._wake is not None and self._ev is not None
        loop = self._ev
        while True:
            self._wake.clear()
            cfg = self._cfg()
            if not cfg.enabled:
                await self._stop_watcher()
                await self._close_backend()
                self._set(enabled=False, state="off", next_run_at=None)
                await self._wake.wait()
                continue
            await self._ensure_watcher(cfg.watch)
            now = loop.time()
            due = self._retry_at if self._retry_at is not None else self._next_full
            push_only = False
            if self._push_wanted and self._retry_at is None and self._status.pending is None and due > now:
                due, push_only = now, True
            if due > now:
                self._set(enabled=True, next_run_at=time.time() + (due - now))
                # A timer that sets the event, rather than wait_for: nothing is left un-awaited when
                # the wait cannot start.
                timer = loop.call_later(due - now, self._wake.set)
                try:
                    await self._wake.wait()
                finally:
                    timer.cancel()
                continue
            pending = self._status.pending is not None
            try:
                await self._attempt(push=not pending, pull=not push_only, confirm=False, scheduled=True)
            except (SyncBackendError, SyncLocked, SyncNeedsConfirmation, SyncDisabled):
                pass  # recorded in the status; the retry is scheduled
            except Exception:
                log.exception("sync run failed")
                if self._retry_at is None:  # never try again at once: that would spin
                    self._retry_at = self._now() + self.retry_base

    def _on_change(self) -> None:
        self._push_wanted = True
        self._kick()

    async def _ensure_watcher(self, watch: bool) -> None:
        if watch and self._watcher is None:
            watcher = SessionWatcher(self.state_dir, self._on_change)
            try:
                await watcher.start()
            except OSError as exc:  # e.g. out of inotify watches: the interval still syncs
                log.warning("sync: cannot watch the session folders (%s); syncing on the interval only", exc)
                return
            self._watcher = watcher
        elif not watch:
            await self._stop_watcher()

    async def _stop_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.stop()

    # --- one run ----------------------------------------------------------------------------------

    async def _engine_for(self, cfg: SyncConfig) -> SyncEngine:
        if self._engine is not None and self._engine_key == self._key:
            return self._engine
        await self._close_backend()
        if self._device_id is None:
            self._device_id = await asyncio.to_thread(settings.device_id, self.state_dir)
        key = self._key
        backend = await settings.build_backend(self.state_dir, cfg, on_new_host_key=self._new_host_key)
        self._backend = backend
        self._engine = SyncEngine(self.state_dir, backend, settings.device_name(cfg), self._device_id)
        self._engine_key = key
        return self._engine

    def _new_host_key(self, fingerprint: str) -> None:
        self._status.fingerprint = fingerprint

    async def _close_backend(self) -> None:
        backend, self._backend, self._engine, self._engine_key = self._backend, None, None, None
        if backend is not None:
            try:
                await backend.close()
            except Exception as exc:  # closing a dead connection: nothing left to do
                log.debug("sync: closing the backend failed: %s", exc)

    async def _attempt(self, *, push: bool, pull: bool, confirm: bool, scheduled: bool = False) -> SyncReport:
        assert self._run_lock is not None, "SyncService.start() first"
        async with self._run_lock:
            cfg = self._cfg()
            if not cfg.enabled:
                raise SyncDisabled()
            if push:
                self._push_wanted = False
            self._set(state="running", next_run_at=None)
            report = SyncReport()
            started = time.time()
            try:
                engine = await self._engine_for(cfg)
                await engine.backend.connect()
                if push:
                    try:
                        report = report.merge(await engine.push(confirm))
                        self._status.pending = None
                    except SyncNeedsConfirmation as exc:
                        self._status.pending = (exc.archive_count, exc.remote_count)
                        if pull:  # pulls go on while pushes wait for the confirmation
                            report = report.merge(await engine.pull())
                        raise
                if pull:
                    report = report.merge(await engine.pull())
            except SyncNeedsConfirmation as exc:
                self._finish(started, report, error=str(exc), full=False)
                self._schedule(ok=True, full=pull)
                self._set(state="needs_confirmation")
                raise
            except SyncLocked:
                self._retry_at = self._now() + self.lock_retry * random.uniform(0.8, 1.2)
                self._set(state="waiting", last_attempt_at=started)
                self._save()
                raise
            except SyncBackendError as exc:
                await self._close_backend()
                self._finish(started, report, error=str(exc), full=False)
                self._schedule(ok=False, full=True, error=exc)
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._close_backend()
                log.exception("sync: unexpected failure")
                self._finish(started, report, error=_("Sync failed: {error}").format(
                    error=str(exc) or type(exc).__name__), full=False)
                self._schedule(ok=False, full=True, error=exc)
                raise
            self._status.fingerprint = (await settings.backend_fingerprint(self.state_dir, cfg)
                                        or self._status.fingerprint)
            self._finish(started, report, error=None, full=push and pull)
            self._schedule(ok=True, full=pull)
            self._set(state="needs_confirmation" if self._status.pending else "idle")
            return report

    def _now(self) -> float:
        assert self._ev is not None, "SyncService.start() first"
        return self._ev.time()

    def _finish(self, started: float, report: SyncReport, *, error: str | None, full: bool) -> None:
        s = self._status
        s.last_attempt_at = started
        s.last_report = report.as_json()
        s.last_error = error
        if full and error is None:
            s.last_good_at = time.time()
        if error is None and report.errors:
            s.last_error = "; ".join(report.errors[:3])
        self._save()

    def _schedule(self, *, ok: bool, full: bool, error: BaseException | None = None) -> None:
        now = self._now()
        if ok:
            self._failures = 0
            self._retry_at = None
            if full:
                self._next_full = now + float(self._cfg().intervalSeconds)
            return
        self._failures += 1
        if isinstance(error, settings.SyncNotConfigured):
            delay = float(self._cfg().intervalSeconds)  # nothing changes until the settings do
            state: SyncState = "error"
        else:
            cap = min(float(self._cfg().intervalSeconds), RETRY_CAP)
            delay = min(self.retry_base * 2 ** (self._failures - 1), cap) * random.uniform(0.8, 1.2)
            state = "waiting" if isinstance(error, SyncBackendError) else "error"
        self._retry_at = now + delay
        self._set(state=state, next_run_at=time.time() + delay)
        log.warning("sync failed (%d in a row), next attempt in %.0f s: %s", self._failures, delay,
                    self._status.last_error)

    # --- status -----------------------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self._status, name, value)
        snapshot = replace(self._status)
        for cb in list(self._subscribers):
            try:
                cb(snapshot)
            except Exception:  # a broken subscriber must not stop sync
                log.exception("sync status subscriber failed")

    def _save(self) -> None:
        s = self._status
        record = {"lastGoodAt": s.last_good_at, "lastAttemptAt": s.last_attempt_at, "lastError": s.last_error,
                  "lastReport": s.last_report, "fingerprint": s.fingerprint,
                  "pending": list(s.pending) if s.pending else None}
        try:
            write_status_file(self.state_dir, record)
            self._file_mtime = status_path(self.state_dir).stat().st_mtime
        except OSError as exc:
            log.warning("cannot write %s: %s", status_path(self.state_dir), exc)

    def _absorb_file(self) -> None:
        """Take in what another process (the CLI) recorded since we last looked."""
        try:
            mtime = status_path(self.state_dir).stat().st_mtime
        except OSError:
            return
        if mtime == self._file_mtime:
            return
        self._file_mtime = mtime
        record = read_status_file(self.state_dir)
        s = self._status
        good = _number(record.get("lastGoodAt"))
        if good is not None and (s.last_good_at is None or good > s.last_good_at):
            s.last_good_at = good
        attempt = _number(record.get("lastAttemptAt"))
        if attempt is not None and (s.last_attempt_at is None or attempt > s.last_attempt_at):
            s.last_attempt_at = attempt
            error = record.get("lastError")
            s.last_error = error if isinstance(error, str) else None
            report = record.get("lastReport")
            s.last_report = report if isinstance(report, dict) else None
            s.pending = _pending(record.get("pending"))
            fingerprint = record.get("fingerprint")
            if isinstance(fingerprint, str):
                s.fingerprint = fingerprint
