"""SyncEngine over the real servers, SMB (smbd, tests/sync/smbd.py) and SFTP (sshd, tests/sync/sshd.py):
two devices sharing one server folder, each seeing the other's sessions after a first sync of many;
a deleted session archived on the server and still readable by the other device; an append to a
5 MB transcript shipped as a delta. Each scenario runs once per server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from molt_desktop.sync.backend import Backend
from molt_desktop.sync.engine import SyncEngine
from molt_desktop.sync.sftp import SftpBackend
from molt_desktop.sync.smb import SmbBackend
from tests.sync.smbd import smbd_server
from tests.sync.sshd import sshd_server


@pytest.fixture(params=["smb", "sftp"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, object]]:
    """(kind, the server folder as seen on disk, the running server)."""
    if request.param == "smb":
        with smbd_server(tmp_path / "smbd") as smbd:
            yield "smb", smbd.share_dir / "sync", smbd
    else:
        with sshd_server(tmp_path / "sshd") as sshd:
            root = tmp_path / "remote"
            root.mkdir()
            yield "sftp", root, sshd


@pytest.fixture
def remote_root(server: tuple[str, Path, object]) -> Path:
    return server[1]


def make_backend(server: tuple[str, Path, object], known_hosts: Path) -> Backend:
    kind, root, running = server
    if kind == "smb":
        s: Any = running
        return SmbBackend(s.host, s.share_name, "sync", username=s.user, password=s.password, port=s.port)
    h: Any = running
    return SftpBackend(h.host, h.port, h.user, str(root), key_file=h.client_key, known_hosts=known_hosts)


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
async def devices(server: tuple[str, Path, object], tmp_path: Path) -> AsyncIterator[tuple[SyncEngine, SyncEngine]]:
    """Two devices (two state dirs), each with its own connection to the server."""
    a, b = make_backend(server, tmp_path / "kh-a"), make_backend(server, tmp_path / "kh-b")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    yield SyncEngine(tmp_path / "a", a, "alpha", A_ID), SyncEngine(tmp_path / "b", b, "beta", B_ID)
    await a.close()
    await b.close()


async def test_two_devices_see_each_others_sessions(devices: tuple[SyncEngine, SyncEngine], remote_root: Path) -> None:
    ea, eb = devices
    for i in range(100):
        _session(ea.state_dir, f"a{i}.jsonl", b"".join(_line(i * 10 + k) for k in range(5)))
    _session(ea.state_dir, "sessions.json", json.dumps({f"agent:main:a{i}": {} for i in range(100)}).encode())
    _session(eb.state_dir, "b0.jsonl", _line(1000) + _line(1001))
    _session(eb.state_dir, "sessions.json", b'{"agent:main:b0": {}}')

    pushed_a = await ea.sync_now()
    pushed_b = await eb.sync_now()
    assert not pushed_a.errors and not pushed_b.errors
    assert pushed_a.files_sent == 101 and pushed_b.files_sent == 2
    assert pushed_b.files_received == 101  # b's pull came after a's push
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
