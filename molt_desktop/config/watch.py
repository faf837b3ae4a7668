"""Hot reload: watch `moltbot.json` with watchdog and hand each settled edit to the event loop.

The parent directory is watched (not the file) because editors save by writing a temp file and
renaming it over the original, which replaces the file's inode. Events of the watchdog thread go
to the loop with `call_soon_threadsafe`; a burst of events within `debounce_s` is one reload.
Opening or reading the file is not an edit (watchdog reports those too; they are ignored, or our
own reads would trigger endless reloads).

What a reload means for the running app (keep or replace the config) is manager.py's business.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from molt_desktop.config.load import ConfigError, LoadedConfig, load_config
from molt_desktop.fileio import ensure_private_dir
from molt_desktop.logs import get_logger

log = get_logger("config")

# created/modified/moved/deleted, and "closed" (closed after writing). Not opened/closed_no_write.
_EDIT_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})


def _same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


class _Handler(FileSystemEventHandler):
    def __init__(self, target: str, notify: Callable[[], None]) -> None:
        super().__init__()
        self._target = target
        self._notify = notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _EDIT_EVENTS:
            return
        paths = [os.fsdecode(event.src_path)]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(os.fsdecode(dest))
        if any(_same_file(p, self._target) for p in paths):
            self._notify()


class ConfigWatcher:
    """Calls `on_change(LoadedConfig)` or `on_error(ConfigError)` on the loop after each edit."""

    def __init__(
        self,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        on_change: Callable[[LoadedConfig], None],
        on_error: Callable[[ConfigError], None],
        *,
        debounce_s: float = 0.1,
    ) -> None:
        self.path = Path(path)
        self._loop = loop
        self._on_change = on_change
        self._on_error = on_error
        self._debounce_s = debounce_s
        self._observer: BaseObserver | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._stopped = True

    @property
    def running(self) -> bool:
        return not self._stopped

    def start(self) -> None:
        """Start watching (idempotent). Falls back to polling when inotify/FSEvents is unavailable."""
        if self._observer is not None:
            return
        directory = self.path.parent
        ensure_private_dir(directory)
        handler = _Handler(str(self.path), self._notify_threadsafe)
        self._stopped = False
        observer: BaseObserver = Observer()
        try:
            observer.schedule(handler, str(directory), recursive=False)
            observer.start()
        except OSError as exc:
            # e.g. the inotify watch limit is reached: polling is slower but works everywhere
            log.warning("cannot watch %s natively (%s); polling for config changes instead", directory, exc)
            observer = PollingObserver(timeout=1.0)
            observer.schedule(handler, str(directory), recursive=False)
            observer.start()
        self._observer = observer
        log.debug("watching %s for changes", self.path)

    def stop(self) -> None:
        """Stop watching; pending reloads are dropped. Call from the loop's thread."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    # --- watchdog thread -> loop ---------------------------------------------------------

    def _notify_threadsafe(self) -> None:
        if self._stopped:
            return
        try:
            self._loop.call_soon_threadsafe(self._arm)
        except RuntimeError:
            pass  # the loop is closed: the app is shutting down

    def _arm(self) -> None:
        if self._stopped:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._debounce_s, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._stopped:
            return
        try:
            loaded = load_config(self.path)
        except ConfigError as exc:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("config reload error handler failed")
            return
        try:
            self._on_change(loaded)
        except Exception:
            log.exception("config reload handler failed")
