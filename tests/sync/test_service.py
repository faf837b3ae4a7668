"""SyncService over a real sshd (tests/sync/sshd.py): the watch ships a new message, the interval pulls
another device's sessions, a dead server is retried with backoff until it is back, config edits turn
sync on and off and move it, a mass delete waits for confirmation, a lock of another process is
retried, and the monitor's sync_stale fires while no sync succeeds and resolves when one does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.config.manager import ConfigManager
from molt_desktop.monitor import rules
from molt_desktop.monitor.model import AlertNotice
from molt_desktop.monitor.service import Monitor
from molt_desktop.sync import settings
from molt_desktop.sync.engine import SyncEngine, SyncLocked, SyncNeedsConfirmation
from molt_desktop.sync.local import LocalFolderBackend
from molt_desktop.sync.service import SyncDisabled, SyncService, SyncStatus, read_status_file
from tests.sync.helpers import until
from tests.sync.sshd import SshServer

pytestmark = pytest.mark.slow


def sync_section(sshd: SshServer, remote: Path, **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "backend": "sftp", "host": sshd.host, "port": sshd.port, "username": sshd.user,
            "keyFile": str(sshd.client_key), "path": str(remote), "deviceName": "laptop", "intervalSeconds": 3600,
            "watch": True} | extra


def write_config(state: Path, sync: dict[str, Any], **extra: Any) -> None:
    (state / "moltbot.json").write_text(json.dumps({"sync": sync, **extra}), encoding="utf-8")


def make_sessions(state: Path, count: int, agent: str = "main") -> Path:
    folder = state / "agents" / agent / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for index in range(count):
        sid = f"s{index:03d}"
        (folder / f"{sid}.jsonl").write_text(
            json.dumps({"type": "session", "version": 3, "id": sid}) + "\n", encoding="utf-8")
        entries[f"agent:{agent}:s{index}"] = {"sessionId": sid, "updatedAt": 1_700_000_000_000 + index}
    (folder / "sessions.json").write_text(json.dumps(entries), encoding="utf-8")
    return folder


def append_message(transcript: Path, text: str) -> bytes:
    line = (json.dumps({"type": "message", "message": {"role": "user", "content": text}}) + "\n").encode()
    with transcript.open("ab") as fh:
        fh.write(line)
    return line


async def device_folder(state: Path) -> str:
    return f"laptop-{(await asyncio.to_thread(settings.device_id, state))[:8]}"


class Running:
    def __init__(self, state: Path) -> None:
        self.config = ConfigManager(state / "moltbot.json")
        self.service = SyncService(state, self.config)
        self.service.retry_base = 0.3
        self.service.lock_retry = 0.3
        self.seen: list[SyncStatus] = []
        self.service.subscribe(self.seen.append)

    @property
    def status(self) -> SyncStatus:
        return self.service.status


@pytest.fixture
async def running(state_home: Path) -> AsyncIterator[Callable[[], Running]]:
    made: list[Running] = []

    def make() -> Running:
        made.append(Running(state_home))
        return made[-1]

    yield make
    for r in made:
        await r.service.stop()


async def test_watch_ships_a_new_message_and_the_interval_pulls(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running]) -> None:
    folder = make_sessions(state_home, 3)
    write_config(state_home, sync_section(sshd, remote, intervalSeconds=10))
    r = running()
    await r.service.start()
    status = await until(lambda: r.status.last_good_at and r.status, 30, "the first sync")
    assert status.state == "idle" and status.last_error is None and status.enabled
    assert status.fingerprint is not None and status.fingerprint.startswith("SHA256:")
    assert status.last_report is not None and status.last_report["filesSent"] == 4
    mine = remote / await device_folder(state_home) / "agents" / "main" / "sessions"
    assert (mine / "s001.jsonl").exists()

    line = append_message(folder / "s001.jsonl", "a new message")
    await until(lambda: (mine / "s001.jsonl").read_bytes().endswith(line), 20, "the message on the server")
    assert r.status.last_report is not None and r.status.last_report["bytesSent"] < 4096

    # Another device writes to the server; the next interval run pulls its sessions.
    other_state = state_home.parent / "other"
    make_sessions(other_state, 2)
    other = SyncEngine(other_state, LocalFolderBackend(remote), "desk", "d" * 64)
    await other.push()
    pulled = state_home / "synced" / "desk-dddddddd" / "agents" / "main" / "sessions" / "s001.jsonl"
    await until(pulled.exists, 30, "the interval pull of the other device")
    await until(lambda: r.status.state == "idle" and r.status.next_run_at, 30, "the next interval run planned")
    saved = read_status_file(state_home)
    assert saved["lastGoodAt"] and saved["fingerprint"] == r.status.fingerprint


async def test_a_dead_server_is_retried_with_backoff_until_it_is_back(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running]) -> None:
    folder = make_sessions(state_home, 2)
    write_config(state_home, sync_section(sshd, remote))
    r = running()
    await r.service.start()
    await until(lambda: r.status.last_good_at, 30, "the first sync")
    good = r.status.last_good_at

    sshd.kill()
    line = append_message(folder / "s000.jsonl", "written while the server is down")
    await until(lambda: r.status.state == "waiting", 30, "the waiting state")
    status = r.status
    assert status.last_error and "refused" in status.last_error
    assert status.next_run_at is not None and status.last_good_at == good
    # It keeps trying: several failed attempts, each with its own next attempt time.
    await until(lambda: len({s.next_run_at for s in r.seen if s.state == "waiting"}) >= 3, 30, "three retries")

    sshd.start()
    mine = remote / await device_folder(state_home) / "agents" / "main" / "sessions"
    await until(lambda: r.status.state == "idle" and r.status.last_good_at != good, 30, "the sync after the restart")
    assert (mine / "s000.jsonl").read_bytes().endswith(line)
    assert r.status.last_error is None


async def test_config_edits_turn_sync_on_and_off_and_move_it(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running]) -> None:
    make_sessions(state_home, 2)
    write_config(state_home, sync_section(sshd, remote, enabled=False))
    r = running()
    await r.service.start()
    await until(lambda: r.status.state == "off", 10, "the off state")
    with pytest.raises(SyncDisabled):
        await r.service.sync_now()
    assert list(remote.iterdir()) == []

    write_config(state_home, sync_section(sshd, remote))
    assert r.config.reload()
    await until(lambda: r.status.last_good_at, 30, "the sync after turning it on")
    assert r.status.enabled and r.status.state == "idle"
    mine = await device_folder(state_home)
    assert (remote / mine / "manifest.json").exists()

    moved = remote.parent / "moved"
    moved.mkdir()
    write_config(state_home, sync_section(sshd, moved))
    assert r.config.reload()
    await until(lambda: (moved / mine / "manifest.json").exists(), 30, "the sync to the new folder")

    write_config(state_home, sync_section(sshd, moved, enabled=False))
    assert r.config.reload()
    await until(lambda: r.status.state == "off" and not r.status.enabled, 10, "the off state again")
    assert r.service._watcher is None


async def test_a_mass_delete_waits_for_confirmation(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running]) -> None:
    folder = make_sessions(state_home, 4)
    write_config(state_home, sync_section(sshd, remote, watch=False))
    r = running()
    await r.service.start()
    await until(lambda: r.status.last_good_at, 30, "the first sync")
    for index in range(3):
        (folder / f"s{index:03d}.jsonl").unlink()

    with pytest.raises(SyncNeedsConfirmation) as caught:
        await r.service.sync_now()
    assert (caught.value.archive_count, caught.value.remote_count) == (3, 5)
    assert r.status.state == "needs_confirmation" and r.status.pending == (3, 5)
    mine = remote / await device_folder(state_home) / "agents" / "main" / "sessions"
    assert (mine / "s000.jsonl").exists()

    await r.service.sync_now(confirm_mass_delete=True)
    assert r.status.state == "idle" and r.status.pending is None
    assert not (mine / "s000.jsonl").exists()
    assert any(p.name.startswith("s000.jsonl") for p in mine.iterdir())  # archived, not destroyed


async def test_a_lock_of_another_process_is_retried_not_an_error(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running]) -> None:
    make_sessions(state_home, 1)
    mine = remote / await device_folder(state_home)
    mine.mkdir()
    lock = mine / ".lock"
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "time": 4102444800.0, "token": "x"}))
    write_config(state_home, sync_section(sshd, remote))
    r = running()
    await r.service.start()
    with pytest.raises(SyncLocked):
        await r.service.sync_now()
    await until(lambda: r.status.state == "waiting", 20, "the waiting state")
    assert r.status.last_error is None and r.status.last_good_at is None
    lock.unlink()
    await until(lambda: r.status.last_good_at, 30, "the sync once the lock is gone")


async def test_the_monitor_sees_a_stale_sync_and_its_recovery(
        sshd: SshServer, remote: Path, state_home: Path, running: Callable[[], Running],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Three missed intervals of at least 10 s take too long for a test: the factor shrinks instead.
    monkeypatch.setattr(rules, "SYNC_STALE_FACTOR", 0.05)  # 10 s interval -> stale after 0.5 s
    make_sessions(state_home, 1)
    write_config(state_home, sync_section(sshd, remote, intervalSeconds=10), alerts={
        "desktop": {"enabled": False}, "thresholds": {"checkIntervalSeconds": 0.2},
        "rules": {name: {"enabled": False} for name in ("cpu_warning", "cpu_critical", "memory_critical", "disk_low")}})
    sshd.kill()
    r = running()
    monitor = Monitor(state_home, r.config)
    notices: list[AlertNotice] = []
    monitor.manager.subscribe(notices.append)
    monitor.set_sync_source(lambda: r.service.status)
    await monitor.start()
    try:
        await r.service.start()
        await until(lambda: any(n.alert.rule == "sync_stale" and n.kind == "fire" for n in notices), 20,
                    "sync_stale to fire")
        fired = next(n for n in notices if n.kind == "fire")
        assert "refused" in fired.alert.detail
        sshd.start()
        await until(lambda: any(n.alert.rule == "sync_stale" and n.kind == "resolve" for n in notices), 30,
                    "sync_stale to resolve")
    finally:
        await monitor.stop()


async def test_an_unexpected_failure_is_retried_later_never_in_a_tight_loop(
        remote: Path, state_home: Path, running: Callable[[], Running], monkeypatch: pytest.MonkeyPatch) -> None:
    make_sessions(state_home, 1)
    write_config(state_home, {"enabled": True, "backend": "folder", "path": str(remote), "deviceName": "laptop",
                              "intervalSeconds": 3600, "watch": False})
    calls: list[float] = []

    async def broken_push(self: SyncEngine, confirm_mass_delete: bool = False) -> Any:
        calls.append(asyncio.get_running_loop().time())
        raise RuntimeError("an unforeseen bug")

    monkeypatch.setattr(SyncEngine, "push", broken_push)
    r = running()
    r.service.retry_base = 0.5
    await r.service.start()
    await until(lambda: len(calls) >= 3, 20, "three attempts")
    # Each retry waits its backoff: 0.5 s, then about 1 s (jitter 0.8-1.2).
    assert calls[1] - calls[0] >= 0.35 and calls[2] - calls[1] >= 0.75, calls
    status = r.status
    assert status.state == "error" and "an unforeseen bug" in (status.last_error or "")
    assert status.next_run_at is not None and status.last_good_at is None
    monkeypatch.undo()
    await until(lambda: r.status.last_good_at, 20, "a good sync once the bug is gone")
