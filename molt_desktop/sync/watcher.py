"""SessionWatcher: notices session files changing under `<state>/agents/*/sessions/` and says so, debounced.

A watchdog Observer (its own thread) watches `<state>/agents`, each agent folder and each
`sessions` folder, each without recursion (watchdog's recursive inotify watch trips over folder
trees created at once, and the agents' other folders are none of sync's business); a folder that
appears later is added when it is seen. Events are handed to the event loop with
`call_soon_threadsafe`; `on_change` is called on the loop once the files have been quiet for
`quiet` seconds (~2 s), or at the latest `max_delay` seconds (~10 s) after the first change of a
steady stream of writes. Files that are not session data (temp files of atomic writes, the
sync's own index and lock files, other folders of the agent) are ignored.

Not here: what a change triggers (service.py pushes).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path, PurePath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from molt_desktop.logs import get_logger

log = get_logger("sync")

QUIET_SECONDS = 2.0
MAX_DELAY_SECONDS = 10.0


def is_session_change(rel: PurePath) -> bool:
    """Whether a path under `<state>/agents` is session data: `<agent>/sessions/<file>` and not a temp file."""
    parts = rel.parts
    if len(parts) < 3 or parts[1] != "sessions":
        return False
    name = parts[-1]
    if name.startswith(".") or name.endswith((".tmp", ".lock", ".swp", "~")) or ".tmp-" in name or ".tmp." in name:
        return False
    return True


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, notify: Callable[[bool], None]) -> None:
        self.root = root
        self.notify = notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads do not change anything
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        for raw in paths:
            if not raw:
                continue
            path = os.fsdecode(raw)
            try:
                rel = Path(path).relative_to(self.root)
            except ValueError:
                continue
            if event.is_directory and len(rel.parts) <= 2:
                self.notify(True)  # a new agent or sessions folder: watch it too
                return
            if is_session_change(rel):
                self.notify(False)
                return


class SessionWatcher:
    """Watch the session folders; `on_change()` runs on the loop, debounced."""

    def __init__(self, state_dir: Path, on_change: Callable[[], None], *, quiet: float = QUIET_SECONDS,
                 max_delay: float = MAX_DELAY_SECONDS) -> None:
        self.root = Path(state_dir) / "agents"
        self.on_change = on_change
        self.quiet = quiet
        self.max_delay = max_delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._first: float | None = None  # loop time of the first change not yet reported
        self._timer: asyncio.TimerHandle | None = None
        self._watched: set[Path] = set()
        self._adding: set[asyncio.Task[None]] = set()
        self._handler: _Handler | None = None

    @property
    def running(self) -> bool:
        return self._observer is not None

    async def start(self) -> None:
        if self._observer is not None:
            return
        self._loop = asyncio.get_running_loop()
        # Watching `agents` (created here if missing) covers agents that appear later.
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        observer = Observer()
        self._handler = _Handler(self.root, self._from_thread)
        self._watched = set()
        observer.daemon = True
        await asyncio.to_thread(observer.start)
        self._observer = observer
        await asyncio.to_thread(self._add_folders)
        log.info("sync: watching %s", self.root)

    async def stop(self) -> None:
        observer, self._observer = self._observer, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._first = None
        if self._adding:
            await asyncio.gather(*self._adding, return_exceptions=True)
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join, 10)

    def _add_folders(self) -> None:
        """Watch `agents`, every agent folder and every `sessions` folder not watched yet (blocking)."""
        observer, handler = self._observer, self._handler
        if observer is None or handler is None:
            return
        folders = [self.root]
        try:
            agents = [p for p in self.root.iterdir() if p.is_dir()]
        except OSError:
            agents = []
        for agent in agents:
            folders += [agent, agent / "sessions"]
        for folder in folders:
            if folder in self._watched or not folder.is_dir():
                continue
            try:
                observer.schedule(handler, str(folder), recursive=False)
            except OSError as exc:  # removed meanwhile, or out of inotify watches
                log.debug("sync: cannot watch %s: %s", folder, exc)
                continue
            self._watched.add(folder)

    def _from_thread(self, new_folder: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._changed, new_folder)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _changed(self, new_folder: bool = False) -> None:
        if self._observer is None or self._loop is None:
            return
        if new_folder:
            task = self._loop.create_task(asyncio.to_thread(self._add_folders))
            self._adding.add(task)
            task.add_done_callback(self._adding.discard)
        now = self._loop.time()
        if self._first is None:
            self._first = now
        if self._timer is not None:
            self._timer.cancel()
        due = min(now + self.quiet, self._first + self.max_delay)
        self._timer = self._loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._first = None
        try:
            self.on_change()
        except Exception:  # a failing callback must not stop the watching
            log.exception("sync: change callback failed")
