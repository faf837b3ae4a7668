"""SmbBackend against a real smbd (tests/sync/smbd.py): every Backend method, logon and share errors,
a server that is down or silent, smbd killed in the middle of an upload, and SyncEngine over SMB
(two devices, an archived session, an append shipped as a delta)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from pathlib import Path

import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.engine import SyncEngine
from molt_desktop.sync.smb import SmbBackend
from tests.sync.smbd import SmbServer, smbd_server


@pytest.fixture
def smbd(tmp_path: Path) -> Iterator[SmbServer]:
    with smbd_server(tmp_path / "smbd") as server:
        yield server


def make_backend(smbd: SmbServer, root: str = "sync", **kwargs: object) -> SmbBackend:
    options: dict[str, object] = {"username": smbd.user, "password": smbd.password, "port": smbd.port} | kwargs
    return SmbBackend(smbd.host, smbd.share_name, root, **options)  # type: ignore[arg-type]


@pytest.fixture
async def backend(smbd: SmbServer) -> AsyncIterator[SmbBackend]:
    b = make_backend(smbd)
    await b.connect()
    await b.makedirs("")
    yield b
    await b.close()


@pytest.fixture
def remote_root(smbd: SmbServer) -> Path:
    return smbd.share_dir / "sync"


async def test_files_and_folders(backend: SmbBackend, remote_root: Path) -> None:
    await backend.makedirs("dev-1/agents/main/sessions")
    await backend.makedirs("dev-1/agents/main/sessions")  # existing is fine
    assert (remote_root / "dev-1/agents/main/sessions").is_dir()

    await backend.write_new("dev-1/a.jsonl", b"line 1\n")
    assert (remote_root / "dev-1/a.jsonl").read_bytes() == b"line 1\n"
    await backend.write_new("dev-1/a.jsonl", b"new\n")  # overwrites, shorter
    assert (remote_root / "dev-1/a.jsonl").read_bytes() == b"new\n"
    await backend.write_new("dev-1/empty", b"")
    assert (remote_root / "dev-1/empty").read_bytes() == b""

    # write_at writes in place: the bytes before the offset stay, and so do those after the range
    await backend.write_at("dev-1/a.jsonl", 4, b"more\n")
    await backend.write_at("dev-1/a.jsonl", 9, b"x" * 3_000_000)  # several pieces
    assert (remote_root / "dev-1/a.jsonl").read_bytes() == b"new\nmore\n" + b"x" * 3_000_000
    await backend.write_at("dev-1/a.jsonl", 0, b"NEW")
    assert (remote_root / "dev-1/a.jsonl").read_bytes()[:10] == b"NEW\nmore\nx"
    assert (remote_root / "dev-1/a.jsonl").stat().st_size == 3_000_009
    with pytest.raises(SyncBackendError, match="does not exist"):
        await backend.write_at("dev-1/missing.jsonl", 0, b"x")  # never creates
    assert not (remote_root / "dev-1/missing.jsonl").exists()

    assert await backend.read("dev-1/a.jsonl", 0, 9) == b"NEW\nmore\n"
    assert await backend.read("dev-1/a.jsonl", 4, 5) == b"more\n"
    assert len(await backend.read("dev-1/a.jsonl")) == 3_000_009
    assert await backend.read("dev-1/a.jsonl", 3_000_005) == b"xxxx"
    assert await backend.read("dev-1/a.jsonl", 3_000_005, 100) == b"xxxx"  # past the end: what there is
    assert await backend.read("dev-1/empty") == b""
    with pytest.raises(SyncBackendError, match="does not exist"):
        await backend.read("dev-1/nothing")

    st = await backend.stat("dev-1/a.jsonl")
    assert st is not None and st.name == "a.jsonl" and st.size == 3_000_009 and not st.is_dir
    assert abs(st.mtime - (remote_root / "dev-1/a.jsonl").stat().st_mtime) < 2
    folder = await backend.stat("dev-1/agents")
    assert folder is not None and folder.is_dir
    assert await backend.stat("dev-1/nothing") is None
    assert await backend.stat("no/such/folder/file") is None
    assert await backend.stat("dev-1/a.jsonl/below") is None  # under a file

    listing = await backend.listdir("dev-1")
    assert [(f.name, f.is_dir) for f in listing] == [("a.jsonl", False), ("agents", True), ("empty", False)]
    assert [f.size for f in listing if f.name == "a.jsonl"] == [3_000_009]
    assert [f.name for f in await backend.listdir("")] == ["dev-1"]  # no "." or ".."
    assert await backend.listdir("no/such/folder") == []
    assert await backend.listdir("dev-1/a.jsonl") == []  # a file is not a folder
    assert await backend.listdir("dev-1/agents/main/sessions") == []

    await backend.remove("dev-1/a.jsonl")
    assert not (remote_root / "dev-1/a.jsonl").exists()
    await backend.remove("dev-1/a.jsonl")  # already gone is fine

    with pytest.raises(SyncBackendError, match="leaves the sync folder"):
        await backend.stat("../outside")


async def test_many_entries_and_unicode_names(backend: SmbBackend, remote_root: Path) -> None:
    # More entries than one directory query answers, with long non-ASCII names.
    names = [f"会话-セッション-{i:04d}-" + "x" * 60 + ".jsonl" for i in range(1500)]
    (remote_root / "big").mkdir()
    for name in names:
        (remote_root / "big" / name).write_bytes(b"1")
    listing = await backend.listdir("big")
    assert [f.name for f in listing] == sorted(names)
    assert await backend.read(f"big/{names[7]}") == b"1"


async def test_rename_replaces_the_target(backend: SmbBackend, remote_root: Path) -> None:
    await backend.write_new("manifest.json", b"old")
    await backend.write_new(".manifest.json.tmp", b"new manifest")
    await backend.rename(".manifest.json.tmp", "manifest.json")
    assert (remote_root / "manifest.json").read_bytes() == b"new manifest"
    assert not (remote_root / ".manifest.json.tmp").exists()

    await backend.write_new("sess.jsonl", b"data")
    await backend.makedirs("archive")
    await backend.rename("sess.jsonl", "archive/sess.jsonl")  # to a free name, into a folder
    assert (remote_root / "archive/sess.jsonl").read_bytes() == b"data"
    with pytest.raises(SyncBackendError, match="does not exist"):
        await backend.rename("sess.jsonl", "again.jsonl")  # the source is gone
    with pytest.raises(SyncBackendError):
        await backend.rename("archive/sess.jsonl", "no/such/folder/sess.jsonl")
    assert (remote_root / "archive/sess.jsonl").read_bytes() == b"data"


async def test_create_exclusive(backend: SmbBackend, remote_root: Path) -> None:
    await backend.makedirs("dev-1")
    assert await backend.create_exclusive("dev-1/.lock", b"holder A") is True
    assert await backend.create_exclusive("dev-1/.lock", b"holder B") is False
    assert (remote_root / "dev-1/.lock").read_bytes() == b"holder A"
    await backend.remove("dev-1/.lock")
    assert await backend.create_exclusive("dev-1/.lock", b"holder B") is True
    assert (remote_root / "dev-1/.lock").read_bytes() == b"holder B"
    # a failure that is not "exists" is an error, not False
    with pytest.raises(SyncBackendError):
        await backend.create_exclusive("no/such/folder/.lock", b"x")


async def test_concurrent_operations_share_one_connection(backend: SmbBackend, remote_root: Path) -> None:
    await asyncio.gather(*(backend.write_new(f"f{i}", bytes([i]) * 1000) for i in range(20)))
    assert [f.name for f in await backend.listdir(".")] == sorted(f"f{i}" for i in range(20))
    assert (remote_root / "f7").read_bytes() == b"\x07" * 1000


async def test_a_path_under_a_file_is_a_sync_error(backend: SmbBackend) -> None:
    await backend.write_new("plain", b"x")
    with pytest.raises(SyncBackendError) as info:
        await backend.write_new("plain/child", b"x")
    assert "plain/child" in str(info.value)
    with pytest.raises(SyncBackendError):
        await backend.makedirs("plain/sub")


async def test_access_denied_is_a_sync_error(smbd: SmbServer, backend: SmbBackend, remote_root: Path) -> None:
    # A share the user may only read: writing is refused by the server.
    smbd.kill()
    smbd.config.write_text(smbd.config.read_text().replace("read only = no", "read only = yes"))
    smbd.start()
    (remote_root / "kept").write_bytes(b"1")
    with pytest.raises(SyncBackendError, match="permission denied"):
        await backend.write_new("new", b"x")  # reconnects by itself, then is refused
    with pytest.raises(SyncBackendError, match="permission denied"):
        await backend.remove("kept")
    assert (remote_root / "kept").read_bytes() == b"1"
    assert await backend.read("kept") == b"1"


async def test_a_wrong_password_is_refused(
    smbd: SmbServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-very-secret"
    b = make_backend(smbd, password=secret)
    with pytest.raises(SyncBackendError, match="logon failed") as info:
        await b.connect()
    assert secret not in str(info.value) and secret not in repr(b)
    with pytest.raises(SyncBackendError, match="logon failed"):
        await b.listdir("")  # operations connect lazily and are refused the same way
    unknown = make_backend(smbd, username="nobody-here", password=secret)
    with pytest.raises(SyncBackendError, match="logon failed"):
        await unknown.connect()
    assert secret not in caplog.text
    await b.close()


async def test_an_unknown_share_is_named(smbd: SmbServer) -> None:
    b = SmbBackend(smbd.host, "no-such-share", "", username=smbd.user, password=smbd.password, port=smbd.port)
    with pytest.raises(SyncBackendError, match="no share named no-such-share"):
        await b.connect()


async def test_no_user_name_is_a_clear_error(smbd: SmbServer) -> None:
    b = make_backend(smbd, username=None)
    with pytest.raises(SyncBackendError, match="needs a user name"):
        await b.connect()


async def test_a_server_that_is_down(smbd: SmbServer) -> None:
    smbd.kill()
    b = make_backend(smbd)
    with pytest.raises(SyncBackendError, match="refused"):
        await b.connect()


async def test_a_server_that_never_answers() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # says nothing, not even a negotiate response

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    b = SmbBackend("127.0.0.1", "share", "", username="me", password="pw-secret", port=port, connect_timeout=0.5)
    try:
        with pytest.raises(SyncBackendError, match="no answer") as info:
            await b.connect()
        assert "pw-secret" not in str(info.value)
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        await b.close()


async def test_a_server_that_stops_answering(smbd: SmbServer, remote_root: Path) -> None:
    b = make_backend(smbd, op_timeout=1.0)
    await b.makedirs("dev-1")
    smbd.stop_connections()  # the connection stands, the server says nothing more
    with pytest.raises(SyncBackendError, match="did not answer"):
        await b.write_new("dev-1/x", b"1" * 10_000_000)
    smbd.kill()
    smbd.start()
    await b.write_new("dev-1/y", b"2")  # a new connection
    assert (remote_root / "dev-1/y").read_bytes() == b"2"
    await b.close()


async def test_a_restarted_server_is_reconnected_by_the_next_operation(
    smbd: SmbServer, backend: SmbBackend, remote_root: Path
) -> None:
    await backend.write_new("before", b"1")
    smbd.kill()
    smbd.start()
    # The kept connection is dead whether or not the client has noticed yet: each call reconnects.
    assert await backend.read("before") == b"1"
    smbd.kill()
    smbd.start()
    await backend.write_new("after", b"2")
    assert (remote_root / "after").read_bytes() == b"2"
    assert [f.name for f in await backend.listdir("")] == ["after", "before"]


async def test_smbd_killed_mid_upload(smbd: SmbServer, backend: SmbBackend, remote_root: Path) -> None:
    await backend.makedirs("dev-1")
    await backend.write_new("dev-1/big.jsonl", b"old contents\n")
    payload = b"y" * (256 * 1024 * 1024)
    temp = remote_root / "dev-1/.big.jsonl.tmp"

    upload = asyncio.create_task(backend.write_new("dev-1/.big.jsonl.tmp", payload))
    # Wait until bytes arrive, then freeze the server where it is and kill it: the upload
    # cannot have been acknowledged as complete.
    for _ in range(6000):
        if temp.exists() and temp.stat().st_size > 0 or upload.done():
            break
        await asyncio.sleep(0.005)
    assert not upload.done(), "the upload finished before the server could be stopped"
    smbd.stop_connections()
    assert temp.stat().st_size < len(payload)
    smbd.kill()

    with pytest.raises(SyncBackendError) as info:
        await upload
    assert "connection" in str(info.value).lower()
    # the final name still holds the old file, complete
    assert (remote_root / "dev-1/big.jsonl").read_bytes() == b"old contents\n"
    with pytest.raises(SyncBackendError, match="refused"):
        await backend.stat("dev-1/big.jsonl")  # server down: an error, not a hang

    # the next run, with the server back, completes (the backend reconnects by itself)
    smbd.start()
    data = b"new contents\n" * 1000
    await backend.write_new("dev-1/.big.jsonl.tmp", data)
    await backend.rename("dev-1/.big.jsonl.tmp", "dev-1/big.jsonl")
    assert (remote_root / "dev-1/big.jsonl").read_bytes() == data
    assert [f.name for f in await backend.listdir("dev-1")] == ["big.jsonl"]


# --- SyncEngine over SMB -----------------------------------------------------------------------

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


def _age_lock(lock: Path) -> None:
    """Make a lock left by a crashed run look as old as an hour (the engine's stale limit is shorter)."""
    old = time.time() - 3600
    try:
        body = json.loads(lock.read_text())
    except (OSError, ValueError):
        body = None
    if isinstance(body, dict) and "time" in body:
        body["time"] = old
        lock.write_text(json.dumps(body))
    os.utime(lock, (old, old))


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

    # The next run completes: the backend reconnects by itself. A lock the crashed run could not
    # release is taken over once stale (here: made to look an hour old).
    lock = remote_root / A_DIR / ".lock"
    if lock.exists():
        _age_lock(lock)
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
