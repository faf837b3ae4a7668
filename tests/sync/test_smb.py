"""SmbBackend against a real smbd (tests/sync/smbd.py): every Backend method, logon and share errors,
a server that is down, restarted or silent, and smbd killed in the middle of an upload. The sync
engine over SMB is tested in test_smb_engine.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.smb import SmbBackend
from tests.sync.helpers import check_create_exclusive, server_killed_mid_upload
from tests.sync.smbd import SmbServer, smb_backend


@pytest.fixture
async def backend(smbd: SmbServer) -> AsyncIterator[SmbBackend]:
    b = smb_backend(smbd)
    await b.connect()
    await b.makedirs("")
    yield b
    await b.close()


async def test_files_and_folders(backend: SmbBackend, share_root: Path) -> None:
    await backend.makedirs("dev-1/agents/main/sessions")
    await backend.makedirs("dev-1/agents/main/sessions")  # existing is fine
    assert (share_root / "dev-1/agents/main/sessions").is_dir()

    await backend.write_new("dev-1/a.jsonl", b"line 1\n")
    assert (share_root / "dev-1/a.jsonl").read_bytes() == b"line 1\n"
    await backend.write_new("dev-1/a.jsonl", b"new\n")  # overwrites, shorter
    assert (share_root / "dev-1/a.jsonl").read_bytes() == b"new\n"
    await backend.write_new("dev-1/empty", b"")
    assert (share_root / "dev-1/empty").read_bytes() == b""

    # write_at writes in place: the bytes before the offset stay, and so do those after the range
    await backend.write_at("dev-1/a.jsonl", 4, b"more\n")
    await backend.write_at("dev-1/a.jsonl", 9, b"x" * 3_000_000)  # several pieces
    assert (share_root / "dev-1/a.jsonl").read_bytes() == b"new\nmore\n" + b"x" * 3_000_000
    await backend.write_at("dev-1/a.jsonl", 0, b"NEW")
    assert (share_root / "dev-1/a.jsonl").read_bytes()[:10] == b"NEW\nmore\nx"
    assert (share_root / "dev-1/a.jsonl").stat().st_size == 3_000_009
    with pytest.raises(SyncBackendError, match="does not exist"):
        await backend.write_at("dev-1/missing.jsonl", 0, b"x")  # never creates
    assert not (share_root / "dev-1/missing.jsonl").exists()

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
    assert abs(st.mtime - (share_root / "dev-1/a.jsonl").stat().st_mtime) < 2
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
    assert not (share_root / "dev-1/a.jsonl").exists()
    await backend.remove("dev-1/a.jsonl")  # already gone is fine

    with pytest.raises(SyncBackendError, match="leaves the sync folder"):
        await backend.stat("../outside")


async def test_many_entries_and_unicode_names(backend: SmbBackend, share_root: Path) -> None:
    # More entries than one directory query answers, with long non-ASCII names.
    names = [f"会话-セッション-{i:04d}-" + "x" * 60 + ".jsonl" for i in range(1500)]
    (share_root / "big").mkdir()
    for name in names:
        (share_root / "big" / name).write_bytes(b"1")
    listing = await backend.listdir("big")
    assert [f.name for f in listing] == sorted(names)
    assert await backend.read(f"big/{names[7]}") == b"1"


async def test_rename_replaces_the_target(backend: SmbBackend, share_root: Path) -> None:
    await backend.write_new("manifest.json", b"old")
    await backend.write_new(".manifest.json.tmp", b"new manifest")
    await backend.rename(".manifest.json.tmp", "manifest.json")
    assert (share_root / "manifest.json").read_bytes() == b"new manifest"
    assert not (share_root / ".manifest.json.tmp").exists()

    await backend.write_new("sess.jsonl", b"data")
    await backend.makedirs("archive")
    await backend.rename("sess.jsonl", "archive/sess.jsonl")  # to a free name, into a folder
    assert (share_root / "archive/sess.jsonl").read_bytes() == b"data"
    with pytest.raises(SyncBackendError, match="does not exist"):
        await backend.rename("sess.jsonl", "again.jsonl")  # the source is gone
    with pytest.raises(SyncBackendError):
        await backend.rename("archive/sess.jsonl", "no/such/folder/sess.jsonl")
    assert (share_root / "archive/sess.jsonl").read_bytes() == b"data"


async def test_create_exclusive(backend: SmbBackend, share_root: Path) -> None:
    await check_create_exclusive(backend, share_root)


async def test_concurrent_operations_share_one_connection(backend: SmbBackend, share_root: Path) -> None:
    await asyncio.gather(*(backend.write_new(f"f{i}", bytes([i]) * 1000) for i in range(20)))
    assert [f.name for f in await backend.listdir(".")] == sorted(f"f{i}" for i in range(20))
    assert (share_root / "f7").read_bytes() == b"\x07" * 1000


async def test_a_path_under_a_file_is_a_sync_error(backend: SmbBackend) -> None:
    await backend.write_new("plain", b"x")
    with pytest.raises(SyncBackendError) as info:
        await backend.write_new("plain/child", b"x")
    assert "plain/child" in str(info.value)
    with pytest.raises(SyncBackendError):
        await backend.makedirs("plain/sub")


async def test_access_denied_is_a_sync_error(smbd: SmbServer, backend: SmbBackend, share_root: Path) -> None:
    # A share the user may only read: writing is refused by the server.
    smbd.kill()
    smbd.config.write_text(smbd.config.read_text().replace("read only = no", "read only = yes"))
    smbd.start()
    (share_root / "kept").write_bytes(b"1")
    with pytest.raises(SyncBackendError, match="permission denied"):
        await backend.write_new("new", b"x")  # reconnects by itself, then is refused
    with pytest.raises(SyncBackendError, match="permission denied"):
        await backend.remove("kept")
    assert (share_root / "kept").read_bytes() == b"1"
    assert await backend.read("kept") == b"1"


async def test_a_wrong_password_is_refused(
    smbd: SmbServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-very-secret"
    b = smb_backend(smbd, password=secret)
    with pytest.raises(SyncBackendError, match="logon failed") as info:
        await b.connect()
    assert secret not in str(info.value) and secret not in repr(b)
    with pytest.raises(SyncBackendError, match="logon failed"):
        await b.listdir("")  # operations connect lazily and are refused the same way
    unknown = smb_backend(smbd, username="nobody-here", password=secret)
    with pytest.raises(SyncBackendError, match="logon failed"):
        await unknown.connect()
    assert secret not in caplog.text
    await b.close()


async def test_an_unknown_share_is_named(smbd: SmbServer) -> None:
    b = SmbBackend(smbd.host, "no-such-share", "", username=smbd.user, password=smbd.password, port=smbd.port)
    with pytest.raises(SyncBackendError, match="no share named no-such-share"):
        await b.connect()


async def test_no_user_name_is_a_clear_error(smbd: SmbServer) -> None:
    b = smb_backend(smbd, username=None)
    with pytest.raises(SyncBackendError, match="needs a user name"):
        await b.connect()


async def test_a_server_that_is_down(smbd: SmbServer) -> None:
    smbd.kill()
    b = smb_backend(smbd)
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


async def test_a_server_that_stops_answering(smbd: SmbServer, share_root: Path) -> None:
    b = smb_backend(smbd, op_timeout=1.0)
    await b.makedirs("dev-1")
    smbd.stop_connections()  # the connection stands, the server says nothing more
    with pytest.raises(SyncBackendError, match="did not answer"):
        await b.write_new("dev-1/x", b"1" * 10_000_000)
    smbd.kill()
    smbd.start()
    await b.write_new("dev-1/y", b"2")  # a new connection
    assert (share_root / "dev-1/y").read_bytes() == b"2"
    await b.close()


async def test_a_restarted_server_is_reconnected_by_the_next_operation(
    smbd: SmbServer, backend: SmbBackend, share_root: Path
) -> None:
    await backend.write_new("before", b"1")
    smbd.kill()
    smbd.start()
    # The kept connection is dead whether or not the client has noticed yet: each call reconnects.
    assert await backend.read("before") == b"1"
    smbd.kill()
    smbd.start()
    await backend.write_new("after", b"2")
    assert (share_root / "after").read_bytes() == b"2"
    assert [f.name for f in await backend.listdir("")] == ["after", "before"]


async def test_smbd_killed_mid_upload(smbd: SmbServer, backend: SmbBackend, share_root: Path) -> None:
    await server_killed_mid_upload(smbd, backend, share_root, 256 * 1024 * 1024, refused="refused")
