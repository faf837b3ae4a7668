"""SyncEngine over SmbBackend against a real smbd (tests/sync/smbd.py): two devices sharing one share,
a deleted session archived and still readable by the other, an append to a 5 MB transcript shipped
as a delta, smbd killed in the middle of a push, and the SMB settings (keyring password, Test)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine
from molt_desktop.sync.smb import SmbBackend
from tests.sync.smbd import SmbServer, smbd_server


@pytest.fixture
def smbd(tmp_path: Path) -> Iterator[SmbServer]:
    with smbd_server(tmp_path / "smbd") as server:
        yield server


@pytest.fixture
def remote_root(smbd: SmbServer) -> Path:
    return smbd.share_dir / "sync"


def make_backend(smbd: SmbServer) -> SmbBackend:
    return SmbBackend(smbd.host, smbd.share_name, "sync", username=smbd.user, password=smbd.password, port=smbd.port)


SESS = "agents/main/sessions"
A_ID, B_ID = "aaaaaaaa11112222", "bbbbbbbb33334444"
A_DIR, B_DIR = "alpha-aaaaaaaa", "beta-bbbbbbbb"


def _line(i: int, size: int = 200) -> bytes:
    return json.dumps({"type": "message", "id": f"{i:08x}", "text": "x" * size}).encode() + b"\n"


def _session(state: Path, name: str, data: bytes) -> Path:
    path = state / SESS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
async def devices(smbd: SmbServer, tmp_path: Path) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """Two devices (two state dirs), each with its own connection to the share."""
    a, b = make_backend(smbd), make_backend(smbd)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    yield SyncEngine(tmp_path / "a", a, "alpha", A_ID), SyncEngine(tmp_path / "b", b, "beta", B_ID)
    await a.close()
    await b.close()


async def test_two_devices_see_each_others_sessions(devices: tuple[SyncEngine, SyncEngine], remote_root: Path) -> None:
    ea, eb = devices
    for i in range(40):
        _session(ea.state_dir, f"a{i}.jsonl", b"".join(_line(i * 10 + k) for k in range(5)))
    _session(ea.state_dir, "sessions.json", json.dumps({f"agent:main:a{i}": {} for i in range(40)}).encode())
    _session(eb.state_dir, "b0.jsonl", _line(1000) + _line(1001))
    _session(eb.state_dir, "sessions.json", b'{"agent:main:b0": {}}')

    pushed_a = await ea.sync_now()
    pushed_b = await eb.sync_now()
    assert not pushed_a.errors and not pushed_b.errors
    assert pushed_a.files_sent == 41 and pushed_b.files_sent == 2
    assert pushed_b.files_received == 41  # b's pull came after a's push
    pulled = await ea.pull()
    assert pulled.files_received == 2 and not pulled.errors

    # Each device's folder on the share holds its own files; each sees the other's under synced/.
    assert _files(remote_root / A_DIR / SESS) == _files(ea.state_dir / SESS)
    assert _files(remote_root / B_DIR / SESS) == _files(eb.state_dir / SESS)
    assert _files(eb.state_dir / "synced" / A_DIR / SESS) == _files(ea.state_dir / SESS)
    assert _files(ea.state_dir / "synced" / B_DIR / SESS) == _files(eb.state_dir / SESS)
    assert not (remote_root / A_DIR / ".lock").exists() and not (remote_root / B_DIR / ".lock").exists()

    # A new message on each side travels on the next round.
    with (ea.state_dir / SESS / "a3.jsonl").open("ab") as fh:
        fh.write(_line(5000))
    with (eb.state_dir / SESS / "b0.jsonl").open("ab") as fh:
        fh.write(_line(6000))
    await ea.sync_now()
    await eb.sync_now()
    await ea.pull()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "a3.jsonl").read_bytes().endswith(_line(5000))
    assert (ea.state_dir / "synced" / B_DIR / SESS / "b0.jsonl").read_bytes().endswith(_line(6000))


async def test_a_deleted_session_is_archived_and_still_readable_elsewhere(
    devices: tuple[SyncEngine, SyncEngine], remote_root: Path
) -> None:
    ea, eb = devices
    for i in range(3):
        _session(ea.state_dir, f"k{i}.jsonl", _line(i))
    gone = _session(ea.state_dir, "gone.jsonl", _line(7) + _line(8))
    content = gone.read_bytes()
    await ea.push()
    await eb.pull()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "gone.jsonl").read_bytes() == content

    # Deleted the way the session store does it: renamed to `.deleted.<time>`, later removed for good.
    archived = "gone.jsonl.deleted.2026-01-01T00-00-00.000Z"
    gone.rename(gone.with_name(archived))
    report = await ea.push()
    assert not report.errors and report.bytes_sent < len(content) + 4_000  # a rename, not a second upload
    (ea.state_dir / SESS / archived).unlink()
    assert not (await ea.push()).errors

    # On the server the session is archived, never destroyed.
    on_server = _files(remote_root / A_DIR / SESS)
    assert "gone.jsonl" not in on_server
    assert [content] == [data for name, data in on_server.items() if name.startswith("gone.jsonl")]
    # The other device still reads it (under its archived name), and no longer as a live session.
    assert not (await eb.pull()).errors
    synced = _files(eb.state_dir / "synced" / A_DIR / SESS)
    assert "gone.jsonl" not in synced
    assert [content] == [data for name, data in synced.items() if name.startswith("gone.jsonl")]
    assert synced["k1.jsonl"] == _line(1)


async def test_an_append_to_a_5_mb_transcript_sends_under_20_kb(
    devices: tuple[SyncEngine, SyncEngine], remote_root: Path
) -> None:
    ea, eb = devices
    big = _session(ea.state_dir, "big.jsonl", b"".join(_line(i, 1000) for i in range(5000)))
    assert big.stat().st_size > 5_000_000
    first = await ea.push()
    assert first.bytes_sent >= big.stat().st_size
    await eb.pull()

    message = _line(99_999, 400)
    with big.open("ab") as fh:
        fh.write(message)
    report = await ea.push()
    assert not report.errors and report.files_sent == 1
    assert report.bytes_sent < 20_000, report.as_json()
    assert report.bytes_received < 20_000, report.as_json()
    assert (remote_root / A_DIR / SESS / "big.jsonl").read_bytes() == big.read_bytes()
    pulled = await eb.pull()
    assert pulled.bytes_received < 20_000, pulled.as_json()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "big.jsonl").read_bytes() == big.read_bytes()


async def test_smbd_killed_mid_push_leaves_no_partial_file_and_the_next_run_completes(
    smbd: SmbServer, devices: tuple[SyncEngine, SyncEngine], remote_root: Path
) -> None:
    ea, eb = devices
    small = _session(ea.state_dir, "small.jsonl", _line(1))
    await ea.push()
    big = _session(ea.state_dir, "big.jsonl", os.urandom(96 * 1024 * 1024))
    with small.open("ab") as fh:
        fh.write(_line(2))
    sessions = remote_root / A_DIR / SESS

    push = asyncio.create_task(ea.push())
    # Wait until the big upload is under way (over a MB in some file of the device folder that is
    # not the final name), then freeze the server where it is and kill it.
    device = remote_root / A_DIR
    for _ in range(12_000):
        partial = [p for p in device.rglob("*") if p.name != "big.jsonl" and p.is_file()
                   and p.stat().st_size > 1_000_000] if device.is_dir() else []
        if partial or push.done():
            break
        await asyncio.sleep(0.005)
    assert not push.done(), "the push finished before the server could be stopped"
    smbd.stop_connections()
    smbd.kill()
    with pytest.raises(SyncBackendError):
        await push

    # Nothing partial under a final name: big.jsonl is absent and small.jsonl holds its old bytes.
    assert not (sessions / "big.jsonl").exists()
    assert (sessions / "small.jsonl").read_bytes() in (_line(1), _line(1) + _line(2))
    smbd.start()
    pulled = await eb.pull()
    assert not pulled.errors
    assert not (eb.state_dir / "synced" / A_DIR / SESS / "big.jsonl").exists()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "small.jsonl").read_bytes() == _line(1)

    # The next run completes at once: the backend reconnects by itself, and the lock the broken run
    # could not release is known to be abandoned (its run ended in this very process).
    lock = remote_root / A_DIR / ".lock"
    report = await ea.push()
    assert not report.errors
    assert (sessions / "big.jsonl").read_bytes() == big.read_bytes()
    assert (sessions / "small.jsonl").read_bytes() == small.read_bytes()
    assert sorted(p.name for p in sessions.iterdir()) == ["big.jsonl", "small.jsonl"]  # no temp left over
    assert not lock.exists()
    assert not (await eb.pull()).errors
    assert (eb.state_dir / "synced" / A_DIR / SESS / "big.jsonl").read_bytes() == big.read_bytes()


async def test_settings_with_a_keyring_password_reach_the_share(
    smbd: SmbServer, tmp_path: Path, memory_keyring: Any
) -> None:
    from molt_desktop.config.schema_molt import SyncConfig
    from molt_desktop.sync.settings import build_backend, test_settings

    memory_keyring.set_password("molt-desktop", "sync.password", smbd.password)
    state = tmp_path / "state"
    (state / "agents").mkdir(parents=True)
    cfg = SyncConfig(enabled=True, backend="smb", host=smbd.host, port=smbd.port, share=smbd.share_name,
                     username=smbd.user, password="keyring:sync.password", path="/backups/molt/")
    result = await test_settings(state, cfg)
    assert result.ok and result.entries == [] and result.fingerprint is None, result.message

    _session(state, "s.jsonl", _line(1))
    backend = await build_backend(state, cfg)
    try:
        report = await SyncEngine(state, backend, "alpha", A_ID).push()
    finally:
        await backend.close()
    assert not report.errors and report.files_sent == 1
    assert (smbd.share_dir / "backups/molt" / A_DIR / SESS / "s.jsonl").read_bytes() == _line(1)
    result = await test_settings(state, cfg)
    assert result.ok and [e.name for e in result.entries] == [A_DIR], result.message

    wrong = cfg.model_copy(update={"password": "not-the-password"})
    result = await test_settings(state, wrong)
    assert not result.ok and "logon failed" in result.message and "not-the-password" not in result.message
