"""SftpBackend against a real sshd (tests/sync/sshd.py): every Backend method, host key pinning and
refusal, a wrong client key, and sshd killed in the middle of an upload."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from molt_desktop.sync.backend import SyncBackendError
from molt_desktop.sync.sftp import SftpBackend
from tests.sync.helpers import check_create_exclusive, server_killed_mid_upload
from tests.sync.sshd import SshServer, sftp_backend


@pytest.fixture
async def backend(sshd: SshServer, remote: Path, tmp_path: Path) -> AsyncIterator[SftpBackend]:
    b = sftp_backend(sshd, remote, tmp_path / "known_hosts")
    await b.connect()
    yield b
    await b.close()


def fingerprint(public_key_file: Path) -> str:
    return asyncssh.read_public_key(public_key_file).get_fingerprint("sha256")


async def test_files_and_folders(backend: SftpBackend, remote: Path) -> None:
    await backend.makedirs("dev-1/agents/main/sessions")
    await backend.makedirs("dev-1/agents/main/sessions")  # existing is fine
    assert (remote / "dev-1/agents/main/sessions").is_dir()

    await backend.write_new("dev-1/a.jsonl", b"line 1\n")
    assert (remote / "dev-1/a.jsonl").read_bytes() == b"line 1\n"
    await backend.write_new("dev-1/a.jsonl", b"new\n")  # overwrites, shorter
    assert (remote / "dev-1/a.jsonl").read_bytes() == b"new\n"

    # write_at appends in place: the bytes before the offset stay as they are
    await backend.write_at("dev-1/a.jsonl", 4, b"more\n")
    await backend.write_at("dev-1/a.jsonl", 9, b"x" * 300_000)
    assert (remote / "dev-1/a.jsonl").read_bytes() == b"new\nmore\n" + b"x" * 300_000
    with pytest.raises(SyncBackendError):
        await backend.write_at("dev-1/missing.jsonl", 0, b"x")  # 'r+b' never creates

    assert await backend.read("dev-1/a.jsonl", 0, 9) == b"new\nmore\n"
    assert await backend.read("dev-1/a.jsonl", 4, 5) == b"more\n"
    assert len(await backend.read("dev-1/a.jsonl")) == 300_009
    assert await backend.read("dev-1/a.jsonl", 300_005) == b"xxxx"
    with pytest.raises(SyncBackendError):
        await backend.read("dev-1/nothing")

    st = await backend.stat("dev-1/a.jsonl")
    assert st is not None and st.name == "a.jsonl" and st.size == 300_009 and not st.is_dir and st.mtime > 0
    folder = await backend.stat("dev-1/agents")
    assert folder is not None and folder.is_dir
    assert await backend.stat("dev-1/nothing") is None

    listing = sorted(await backend.listdir("dev-1"))
    assert [(f.name, f.is_dir) for f in listing] == [("a.jsonl", False), ("agents", True)]
    assert [f.size for f in listing if f.name == "a.jsonl"] == [300_009]
    assert [f.name for f in await backend.listdir("")] == ["dev-1"]  # no "." or ".."
    assert await backend.listdir("no/such/folder") == []
    assert await backend.listdir("dev-1/agents/main/sessions") == []

    await backend.remove("dev-1/a.jsonl")
    assert not (remote / "dev-1/a.jsonl").exists()
    await backend.remove("dev-1/a.jsonl")  # already gone is fine

    with pytest.raises(SyncBackendError, match="leaves the sync folder"):
        await backend.stat("../outside")


async def test_rename_replaces_the_target(backend: SftpBackend, remote: Path) -> None:
    await backend.write_new("manifest.json", b"old")
    await backend.write_new(".manifest.json.tmp", b"new manifest")
    await backend.rename(".manifest.json.tmp", "manifest.json")
    assert (remote / "manifest.json").read_bytes() == b"new manifest"
    assert not (remote / ".manifest.json.tmp").exists()

    await backend.write_new("sess.jsonl", b"data")
    await backend.makedirs("archive")
    await backend.rename("sess.jsonl", "archive/sess.jsonl")  # to a free name, into a folder
    assert (remote / "archive/sess.jsonl").read_bytes() == b"data"
    with pytest.raises(SyncBackendError):
        await backend.rename("sess.jsonl", "again.jsonl")  # the source is gone


async def test_create_exclusive(backend: SftpBackend, remote: Path) -> None:
    await check_create_exclusive(backend, remote)


async def test_concurrent_operations_share_one_connection(backend: SftpBackend, remote: Path) -> None:
    await asyncio.gather(*(backend.write_new(f"f{i}", bytes([i]) * 1000) for i in range(20)))
    assert sorted(f.name for f in await backend.listdir(".")) == sorted(f"f{i}" for i in range(20))
    assert (remote / "f7").read_bytes() == b"\x07" * 1000


async def test_permission_denied_is_a_sync_error(backend: SftpBackend, remote: Path) -> None:
    # A path under a regular file cannot be a folder, whoever the user is (root ignores modes).
    await backend.write_new("plain", b"x")
    with pytest.raises(SyncBackendError) as info:
        await backend.write_new("plain/child", b"x")
    assert "plain/child" in str(info.value)


async def test_first_contact_pins_the_host_key(
    sshd: SshServer, remote: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    known_hosts = tmp_path / "state" / "sync" / "known_hosts"
    seen: list[str] = []
    caplog.set_level(logging.INFO, logger="molt_desktop.sync")
    b = sftp_backend(sshd, remote, known_hosts, on_new_host_key=seen.append)
    await b.connect()
    await b.close()

    expected = fingerprint(sshd.host_key_public)
    assert seen == [expected]
    assert expected.startswith("SHA256:")
    assert expected in caplog.text
    kind, blob = sshd.host_key_public.read_text().split()[:2]
    assert known_hosts.read_text() == f"[127.0.0.1]:{sshd.port} {kind} {blob}\n"

    # the second contact finds the pinned key: nothing new is written or reported
    again = sftp_backend(sshd, remote, known_hosts, on_new_host_key=seen.append)
    await again.connect()
    await again.write_new("x", b"1")
    await again.close()
    assert seen == [expected]
    assert known_hosts.read_text().count("\n") == 1


async def test_a_changed_host_key_is_refused(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    first = sftp_backend(sshd, remote, known_hosts)
    await first.connect()
    await first.close()
    old = fingerprint(sshd.host_key_public)
    pinned = known_hosts.read_text()

    sshd.kill()
    sshd.start(new_host_key=True)
    new = fingerprint(sshd.host_key_public)
    assert new != old

    seen: list[str] = []
    b = sftp_backend(sshd, remote, known_hosts, on_new_host_key=seen.append)
    with pytest.raises(SyncBackendError) as info:
        await b.connect()
    message = str(info.value)
    assert old in message and new in message and "changed" in message
    assert known_hosts.read_text() == pinned  # the pin is not replaced
    assert seen == []
    with pytest.raises(SyncBackendError):
        await b.listdir("")  # operations connect lazily and are refused the same way
    assert not (remote / "x").exists()


async def test_a_wrong_client_key_is_refused(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(stranger)
    b = sftp_backend(sshd, remote, tmp_path / "known_hosts", key_file=stranger)
    with pytest.raises(SyncBackendError, match="authentication failed"):
        await b.connect()


async def test_password_never_appears_in_the_error(
    sshd: SshServer, remote: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-very-secret"
    b = SftpBackend(sshd.host, sshd.port, "nobody-here", str(remote), password=secret,
                    known_hosts=tmp_path / "known_hosts")
    with pytest.raises(SyncBackendError) as info:
        await b.connect()
    assert secret not in str(info.value) and secret not in repr(b)
    assert secret not in caplog.text


async def test_connection_refused_is_a_sync_error(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    sshd.kill()
    b = sftp_backend(sshd, remote, tmp_path / "known_hosts")
    with pytest.raises(SyncBackendError, match="refused"):
        await b.connect()


async def test_sshd_killed_mid_upload(sshd: SshServer, backend: SftpBackend, remote: Path) -> None:
    await server_killed_mid_upload(sshd, backend, remote, 128 * 1024 * 1024)


async def test_rename_without_posix_rename(
    backend: SftpBackend, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server without posix-rename@openssh.com: the target is removed, then the file renamed.
    await backend.write_new("t", b"x")  # connects
    assert backend._sftp is not None

    async def unsupported(src: str, dst: str) -> None:
        raise asyncssh.SFTPOpUnsupported("POSIX rename not supported")

    monkeypatch.setattr(backend._sftp, "posix_rename", unsupported)
    await backend.write_new("manifest.json", b"old")
    await backend.write_new(".manifest.json.tmp", b"new")
    await backend.rename(".manifest.json.tmp", "manifest.json")
    assert (remote / "manifest.json").read_bytes() == b"new"
    await backend.rename("t", "u")
    assert (remote / "u").read_bytes() == b"x"


async def test_a_server_that_never_answers(tmp_path: Path) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # says nothing, not even a banner

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    b = SftpBackend("127.0.0.1", port, "me", "/", password="pw-secret", known_hosts=tmp_path / "kh",
                    connect_timeout=0.5)
    try:
        with pytest.raises(SyncBackendError, match="no answer"):
            await b.connect()
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_engine_push_and_pull_over_sftp(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    from molt_desktop.sync import engine as engine_mod
    transcript = b"".join(b'{"type":"message","n":%d}\n' % i for i in range(2000))
    state_a, state_b = tmp_path / "dev-a", tmp_path / "dev-b"
    sessions = state_a / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "s1.jsonl").write_bytes(transcript)
    (sessions / "sessions.json").write_bytes(b'{"s1": {}}')
    (state_b / "agents").mkdir(parents=True)

    a = sftp_backend(sshd, remote, tmp_path / "kh-a")
    b = sftp_backend(sshd, remote, tmp_path / "kh-b")
    try:
        push = await engine_mod.SyncEngine(state_a, a, "laptop", "aaaaaaaa1111").push()
        assert push.files_sent >= 1 and not push.errors
        pull = await engine_mod.SyncEngine(state_b, b, "desktop", "bbbbbbbb2222").pull()
        assert pull.files_received == push.files_sent and not pull.errors
        copy = state_b / "synced" / "laptop-aaaaaaaa" / "agents" / "main" / "sessions" / "s1.jsonl"
        assert copy.read_bytes() == transcript

        # an append travels as the new bytes only, and arrives
        with (sessions / "s1.jsonl").open("ab") as fh:
            fh.write(b'{"type":"message","n":"last"}\n')
        push = await engine_mod.SyncEngine(state_a, a, "laptop", "aaaaaaaa1111").push()
        assert not push.errors and push.bytes_sent < len(transcript)
        pull = await engine_mod.SyncEngine(state_b, b, "desktop", "bbbbbbbb2222").pull()
        assert not pull.errors
        assert copy.read_bytes() == transcript + b'{"type":"message","n":"last"}\n'
        assert (remote / "laptop-aaaaaaaa" / "agents/main/sessions/s1.jsonl").read_bytes() == copy.read_bytes()
    finally:
        await a.close()
        await b.close()


async def test_a_chat_turn_ships_sessions_json_as_a_changes_line_over_sftp(
    sshd: SshServer, remote: Path, tmp_path: Path
) -> None:
    from molt_desktop.sessions.store import SessionStore
    from molt_desktop.sync.engine import SyncEngine

    state_a, state_b = tmp_path / "dev-a", tmp_path / "dev-b"
    state_b.mkdir()
    store = SessionStore(state_a)
    for i in range(100):
        key = f"agent:main:s{i:03d}"
        store.ensure(key, provider="fake", model="m1", model_api="openai-completions", context_tokens=8000)
        store.append_message(key, {"role": "user", "content": f"question {i}", "timestamp": 1})
    rel = "agents/main/sessions/sessions.json"
    a = sftp_backend(sshd, remote, tmp_path / "kh-a")
    b = sftp_backend(sshd, remote, tmp_path / "kh-b")
    try:
        ea, eb = SyncEngine(state_a, a, "laptop", "aaaaaaaa1111"), SyncEngine(state_b, b, "desktop", "bbbbbbbb2222")
        assert not (await ea.push()).errors
        assert not (await eb.pull()).errors
        store.append_message("agent:main:s050", {"role": "assistant", "content": "an answer", "timestamp": 2})
        store.update("agent:main:s050", {"totalTokens": 321})
        push = await ea.push()
        assert push.files_sent == 2 and not push.errors
        assert push.bytes_sent + push.bytes_received < 8_000, push
        pull = await eb.pull()
        assert pull.files_received == 2 and pull.bytes_received < 8_000 and not pull.errors, pull
        copy = state_b / "synced" / "laptop-aaaaaaaa" / rel
        assert copy.read_bytes() == (state_a / rel).read_bytes()
        assert (remote / "laptop-aaaaaaaa" / f"{rel}.changes.jsonl").is_file()
    finally:
        store.close()
        await a.close()
        await b.close()
