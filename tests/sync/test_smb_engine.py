"""SyncEngine over SmbBackend against a real smbd (tests/sync/smbd.py): smbd killed in the middle of a
push, and the SMB settings (keyring password, Test). The scenarios every server shares (two devices,
archive, delta) are in test_engine_servers.py."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine
from tests.sync.helpers import A_DIR, A_ID, SESS, line, session_file, two_devices
from tests.sync.smbd import SmbServer, smb_backend


@pytest.fixture
async def devices(smbd: SmbServer, tmp_path: Path) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """Two devices (two state dirs), each with its own connection to the share."""
    async with two_devices(tmp_path, smb_backend(smbd), smb_backend(smbd)) as engines:
        yield engines


async def test_smbd_killed_mid_push_leaves_no_partial_file_and_the_next_run_completes(
    smbd: SmbServer, devices: tuple[SyncEngine, SyncEngine], share_root: Path
) -> None:
    ea, eb = devices
    small = session_file(ea.state_dir, "small.jsonl", line(1))
    await ea.push()
    big = session_file(ea.state_dir, "big.jsonl", os.urandom(96 * 1024 * 1024))
    with small.open("ab") as fh:
        fh.write(line(2))
    sessions = share_root / A_DIR / SESS

    push = asyncio.create_task(ea.push())
    # Wait until the big upload is under way (over a MB in some file of the device folder that is
    # not the final name), then freeze the server where it is and kill it.
    device = share_root / A_DIR
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
    assert (sessions / "small.jsonl").read_bytes() in (line(1), line(1) + line(2))
    smbd.start()
    pulled = await eb.pull()
    assert not pulled.errors
    assert not (eb.state_dir / "synced" / A_DIR / SESS / "big.jsonl").exists()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "small.jsonl").read_bytes() == line(1)

    # The next run completes at once: the backend reconnects by itself, and the lock the broken run
    # could not release is known to be abandoned (its run ended in this very process).
    lock = share_root / A_DIR / ".lock"
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

    session_file(state, "s.jsonl", line(1))
    backend = await build_backend(state, cfg)
    try:
        report = await SyncEngine(state, backend, "alpha", A_ID).push()
    finally:
        await backend.close()
    assert not report.errors and report.files_sent == 1
    assert (smbd.share_dir / "backups/molt" / A_DIR / SESS / "s.jsonl").read_bytes() == line(1)
    result = await test_settings(state, cfg)
    assert result.ok and [e.name for e in result.entries] == [A_DIR], result.message

    wrong = cfg.model_copy(update={"password": "not-the-password"})
    result = await test_settings(state, wrong)
    assert not result.ok and "logon failed" in result.message and "not-the-password" not in result.message
