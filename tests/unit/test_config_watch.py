"""Hot reload with a real watchdog observer and real file edits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from watchdog.events import (
    DirModifiedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from molt_desktop import paths
from molt_desktop.config.load import ConfigError, LoadedConfig, load_config
from molt_desktop.config.watch import ConfigWatcher, _Handler

TIMEOUT = 10.0


class Recorder:
    """Collects watcher callbacks and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.changes: list[LoadedConfig] = []
        self.errors: list[ConfigError] = []
        self.event = asyncio.Event()

    def on_change(self, loaded: LoadedConfig) -> None:
        self.changes.append(loaded)
        self.event.set()

    def on_error(self, error: ConfigError) -> None:
        self.errors.append(error)
        self.event.set()

    async def next(self) -> None:
        await asyncio.wait_for(self.event.wait(), TIMEOUT)
        self.event.clear()

    async def until_port(self, port: int) -> LoadedConfig:
        while not (self.changes and self.changes[-1].config.gateway.port == port):
            await self.next()
        return self.changes[-1]


@pytest.fixture
def cfg_path(state_home: Path) -> Path:
    path = paths.config_path(state_home)
    path.write_text("{gateway: {port: 18001}}", encoding="utf-8")
    return path


@pytest.fixture
async def watched(cfg_path: Path) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    watcher = ConfigWatcher(cfg_path, asyncio.get_running_loop(), recorder.on_change, recorder.on_error)
    watcher.start()
    assert watcher.running
    yield recorder
    watcher.stop()
    assert not watcher.running


async def test_an_edit_in_place_is_seen(cfg_path: Path, watched: Recorder) -> None:
    cfg_path.write_text("{gateway: {port: 18002}}", encoding="utf-8")
    loaded = await watched.until_port(18002)
    assert loaded.raw == "{gateway: {port: 18002}}"


async def test_editor_pattern_temp_file_then_rename(cfg_path: Path, watched: Recorder) -> None:
    temp = cfg_path.with_name(".moltbot.json.swp")
    temp.write_text("{gateway: {port: 18003}}", encoding="utf-8")
    os.replace(temp, cfg_path)
    await watched.until_port(18003)


async def test_an_invalid_edit_is_reported_as_an_error(cfg_path: Path, watched: Recorder) -> None:
    cfg_path.write_text("{gateway: {port: 'nope'}}", encoding="utf-8")
    while not watched.errors:
        await watched.next()
    assert watched.errors[-1].key_path == "gateway.port"
    cfg_path.write_text("{gateway: {port: 18004}}", encoding="utf-8")
    await watched.until_port(18004)


async def test_a_burst_of_writes_ends_with_the_last_content(cfg_path: Path, watched: Recorder) -> None:
    for port in range(18010, 18020):
        cfg_path.write_text(f"{{gateway: {{port: {port}}}}}", encoding="utf-8")
    await watched.until_port(18019)
    assert len(watched.changes) < 10  # debounced


async def test_other_files_in_the_directory_are_ignored(cfg_path: Path, watched: Recorder) -> None:
    (cfg_path.parent / "sessions.json").write_text("{}", encoding="utf-8")
    cfg_path.write_text("{gateway: {port: 18005}}", encoding="utf-8")
    await watched.until_port(18005)
    assert all(c.path == cfg_path for c in watched.changes)


async def test_missing_directory_is_created_and_watched(tmp_path: Path) -> None:
    path = tmp_path / "new" / "moltbot.json"
    recorder = Recorder()
    watcher = ConfigWatcher(path, asyncio.get_running_loop(), recorder.on_change, recorder.on_error)
    watcher.start()
    try:
        path.write_text("{gateway: {port: 18006}}", encoding="utf-8")
        await recorder.until_port(18006)
    finally:
        watcher.stop()


async def test_nothing_arrives_after_stop(cfg_path: Path) -> None:
    recorder = Recorder()
    watcher = ConfigWatcher(cfg_path, asyncio.get_running_loop(), recorder.on_change, recorder.on_error)
    watcher.start()
    watcher.stop()
    cfg_path.write_text("{gateway: {port: 18007}}", encoding="utf-8")
    watcher._notify_threadsafe()  # a late event from the observer thread is dropped
    assert recorder.changes == [] and watcher._timer is None


def test_handler_reacts_to_edits_of_the_file_only(tmp_path: Path) -> None:
    target = str(tmp_path / "moltbot.json")
    other = str(tmp_path / "other.json")
    calls: list[int] = []
    handler = _Handler(target, lambda: calls.append(1))

    def fired(event: object) -> bool:
        calls.clear()
        handler.dispatch(event)  # type: ignore[arg-type]
        return bool(calls)

    assert fired(FileModifiedEvent(target))
    assert fired(FileCreatedEvent(target))
    assert fired(FileDeletedEvent(target))
    assert fired(FileClosedEvent(target))
    assert fired(FileMovedEvent(str(tmp_path / ".tmp123"), target))
    assert fired(FileMovedEvent(target, str(tmp_path / "moltbot.json.bak")))
    # reading the file (our own loads) must not look like an edit
    assert not fired(FileOpenedEvent(target))
    assert not fired(FileClosedNoWriteEvent(target))
    assert not fired(FileModifiedEvent(other))
    assert not fired(DirModifiedEvent(str(tmp_path)))


async def test_loading_in_the_callback_does_not_loop(cfg_path: Path) -> None:
    """The change callback reads the file again; that read must not trigger another reload."""
    recorder = Recorder()
    reads: list[int] = []

    def on_change(loaded: LoadedConfig) -> None:
        reads.append(load_config(cfg_path).config.gateway.port)
        recorder.on_change(loaded)

    watcher = ConfigWatcher(cfg_path, asyncio.get_running_loop(), on_change, recorder.on_error)
    watcher.start()
    try:
        cfg_path.write_text("{gateway: {port: 18008}}", encoding="utf-8")
        await recorder.until_port(18008)
        cfg_path.write_text("{gateway: {port: 18009}}", encoding="utf-8")
        await recorder.until_port(18009)
    finally:
        watcher.stop()
    # each edit produced reloads of its own content only (no endless reload of the same hash chain)
    assert len(reads) <= 4
