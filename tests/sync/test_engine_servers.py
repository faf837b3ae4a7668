"""SyncEngine over the real servers, SMB (smbd, tests/sync/smbd.py) and SFTP (sshd, tests/sync/sshd.py):
two devices sharing one server folder, each seeing the other's sessions after a first sync of many;
a deleted session archived on the server and still readable by the other device; an append to a
5 MB transcript shipped as a delta. Each scenario runs once per server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from molt_desktop.sync.backend import Backend
from molt_desktop.sync.engine import SyncEngine
from tests.sync.helpers import A_DIR, B_DIR, SESS, files_of, line, session_file, two_devices
from tests.sync.smbd import SmbServer, smb_backend
from tests.sync.sshd import SshServer, sftp_backend


@pytest.fixture(params=["smb", "sftp"])
def server(request: pytest.FixtureRequest) -> tuple[str, Path, object]:
    """(kind, the server folder as seen on disk, the running server)."""
    if request.param == "smb":
        return "smb", request.getfixturevalue("share_root"), request.getfixturevalue("smbd")
    return "sftp", request.getfixturevalue("remote"), request.getfixturevalue("sshd")


@pytest.fixture
def remote_root(server: tuple[str, Path, object]) -> Path:
    return server[1]


def make_backend(server: tuple[str, Path, object], known_hosts: Path) -> Backend:
    _kind, root, running = server
    if isinstance(running, SmbServer):
        return smb_backend(running)
    assert isinstance(running, SshServer)
    return sftp_backend(running, root, known_hosts)


@pytest.fixture
async def devices(server: tuple[str, Path, object], tmp_path: Path) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """Two devices (two state dirs), each with its own connection to the server."""
    async with two_devices(tmp_path, make_backend(server, tmp_path / "kh-a"),
                           make_backend(server, tmp_path / "kh-b")) as engines:
        yield engines


async def test_two_devices_see_each_others_sessions(devices: tuple[SyncEngine, SyncEngine], remote_root: Path) -> None:
    ea, eb = devices
    for i in range(100):
        session_file(ea.state_dir, f"a{i}.jsonl", b"".join(line(i * 10 + k) for k in range(5)))
    session_file(ea.state_dir, "sessions.json", json.dumps({f"agent:main:a{i}": {} for i in range(100)}).encode())
    session_file(eb.state_dir, "b0.jsonl", line(1000) + line(1001))
    session_file(eb.state_dir, "sessions.json", b'{"agent:main:b0": {}}')

    pushed_a = await ea.sync_now()
    pushed_b = await eb.sync_now()
    assert not pushed_a.errors and not pushed_b.errors
    assert pushed_a.files_sent == 101 and pushed_b.files_sent == 2
    assert pushed_b.files_received == 101  # b's pull came after a's push
    pulled = await ea.pull()
    assert pulled.files_received == 2 and not pulled.errors

    # Each device's folder on the share holds its own files; each sees the other's under synced/.
    assert files_of(remote_root / A_DIR / SESS) == files_of(ea.state_dir / SESS)
    assert files_of(remote_root / B_DIR / SESS) == files_of(eb.state_dir / SESS)
    assert files_of(eb.state_dir / "synced" / A_DIR / SESS) == files_of(ea.state_dir / SESS)
    assert files_of(ea.state_dir / "synced" / B_DIR / SESS) == files_of(eb.state_dir / SESS)
    assert not (remote_root / A_DIR / ".lock").exists() and not (remote_root / B_DIR / ".lock").exists()

    # A new message on each side travels on the next round.
    with (ea.state_dir / SESS / "a3.jsonl").open("ab") as fh:
        fh.write(line(5000))
    with (eb.state_dir / SESS / "b0.jsonl").open("ab") as fh:
        fh.write(line(6000))
    await ea.sync_now()
    await eb.sync_now()
    await ea.pull()
    assert (eb.state_dir / "synced" / A_DIR / SESS / "a3.jsonl").read_bytes().endswith(line(5000))
    assert (ea.state_dir / "synced" / B_DIR / SESS / "b0.jsonl").read_bytes().endswith(line(6000))


async def test_a_deleted_session_is_archived_and_still_readable_elsewhere(
    devices: tuple[SyncEngine, SyncEngine], remote_root: Path
) -> None:
    ea, eb = devices
    for i in range(3):
        session_file(ea.state_dir, f"k{i}.jsonl", line(i))
    gone = session_file(ea.state_dir, "gone.jsonl", line(7) + line(8))
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
    on_server = files_of(remote_root / A_DIR / SESS)
    assert "gone.jsonl" not in on_server
    assert [content] == [data for name, data in on_server.items() if name.startswith("gone.jsonl")]
    # The other device still reads it (under its archived name), and no longer as a live session.
    assert not (await eb.pull()).errors
    synced = files_of(eb.state_dir / "synced" / A_DIR / SESS)
    assert "gone.jsonl" not in synced
    assert [content] == [data for name, data in synced.items() if name.startswith("gone.jsonl")]
    assert synced["k1.jsonl"] == line(1)


async def test_an_append_to_a_5_mb_transcript_sends_under_20_kb(
    devices: tuple[SyncEngine, SyncEngine], remote_root: Path
) -> None:
    ea, eb = devices
    big = session_file(ea.state_dir, "big.jsonl", b"".join(line(i, 1000) for i in range(5000)))
    assert big.stat().st_size > 5_000_000
    first = await ea.push()
    assert first.bytes_sent >= big.stat().st_size
    await eb.pull()

    message = line(99_999, 400)
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
