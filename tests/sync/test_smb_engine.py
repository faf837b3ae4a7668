"""SyncEngine over SmbBackend against a real smbd (tests/sync/smbd.py): smbd killed in the middle of a
push, and the SMB settings (keyring password, Test). The scenarios every server shares (two devices,
archive, delta) are in test_engine_servers.py."""

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
A_DIR = "alpha-aaaaaaaa"


def _line(i: int, size: int = 200) -> bytes:
    return json.dumps({"type": "message", "id": f"{i:08x}", "text": "x" * size}).encode() + b"\n"


def _session(state: Path, name: str, data: bytes) -> Path:
    path = state / SESS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
async def devices(smbd: SmbServer, tmp_path: Path) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """Two devices (two state dirs), each with its own connection to the share."""
    a, b = make_backend(smbd), make_backend(smbd)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    yield SyncEngine(tmp_path / "a", a, "alpha", A_ID), SyncEngine(tmp_path / "b", b, "beta", B_ID)
    await a.close()
    await b.close()


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
