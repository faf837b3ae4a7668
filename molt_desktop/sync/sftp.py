"""The SFTP sync backend (asyncssh): a folder on the user's server, reached over SSH.

`SftpBackend(host, port, username, root, key_file=..., password=..., known_hosts=...)` meets the
Backend protocol of sync/backend.py. Paths are POSIX and relative to `root` (a relative root is
relative to the remote home directory); a path that would leave the root is refused.

Host keys are checked against `known_hosts`, a file in OpenSSH format that the app keeps (e.g.
`<state>/sync/known_hosts`). A host it does not list is pinned on first contact without a prompt:
the key is added to the file, its SHA-256 fingerprint logged and handed to `on_new_host_key` so
Settings can show it. A host whose key differs from the pinned one is refused, naming both
fingerprints. The user's ~/.ssh/config and ~/.ssh/known_hosts are not read, so what the app
trusts is exactly what that file says.

Every failure (refused, unreachable, timeout, authentication, permission, a lost connection)
becomes SyncBackendError with a message for people; the password never appears in it or in the
log. Not here: what to sync and when (sync/engine.py), where the settings come from (the caller
resolves `keyring:` secrets before constructing the backend).
"""

from __future__ import annotations

import asyncio
import posixpath
import stat as stat_mod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncssh

from molt_desktop import fileio
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, register_secret
from molt_desktop.sync.backend import RemoteFile, SyncBackendError

log = get_logger("sync")

T = TypeVar("T")

CONNECT_TIMEOUT = 20.0
# A silent server is noticed after KEEPALIVE_INTERVAL * KEEPALIVE_COUNT seconds instead of hanging
# an upload until the OS gives up on the TCP connection (minutes).
KEEPALIVE_INTERVAL = 15.0
KEEPALIVE_COUNT = 3


def _fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")


def _known_hosts_name(host: str, port: int) -> str:
    # OpenSSH's spelling, so that `ssh-keygen -F` and ssh itself read the same file.
    return host if port == 22 else f"[{host}]:{port}"


class _HostKeyCheck(asyncssh.SSHClient):
    """Sees the server's host key when it is not one of the pinned keys (asyncssh asks only then)."""

    def __init__(self, pinned: list[asyncssh.SSHKey]) -> None:
        self.pinned = pinned
        self.presented: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.presented = key
        # Unknown host: trust on first use (pinned by connect() once the connection stands).
        # Known host with another key: refuse.
        return not self.pinned


class SftpBackend:
    """A Backend on an SFTP server. Connects lazily on first use; reconnects after a lost link."""

    def __init__(
        self,
        host: str,
        port: int = 22,
        username: str = "",
        root: str = ".",
        *,
        key_file: Path | str | None = None,
        password: str | None = None,
        known_hosts: Path,
        on_new_host_key: Callable[[str], None] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        root = root.strip() or "."
        self.root = "." if root in ("~", "~/") else root.removeprefix("~/")
        self.key_file = str(Path(key_file).expanduser()) if key_file else None
        self._password = password
        register_secret(password)
        self.known_hosts = known_hosts
        self.on_new_host_key = on_new_host_key
        self.connect_timeout = connect_timeout
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._connect_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never shows the password
        return f"SftpBackend({self.username}@{self.host}:{self.port}:{self.root})"

    @property
    def _where(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    # --- connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        async with self._connect_lock:
            if self._sftp is not None and self._conn is not None and not self._conn.is_closed():
                return
            await self._drop()
            await self._open()

    async def _open(self) -> None:
        name = _known_hosts_name(self.host, self.port)
        pinned = await asyncio.to_thread(self._pinned_keys)
        check = _HostKeyCheck(pinned)
        # Prefer the algorithms of the pinned keys (as ssh does) without excluding the others, so
        # that a server now offering only another key type is reported as a changed key rather
        # than as "no matching host key algorithm".
        preferred: list[str] = []
        for key in pinned:
            preferred += [a.decode() for a in key.sig_algorithms if a.decode() not in preferred]
        defaults = [a.decode() for a in asyncssh.public_key.get_default_public_key_algs()]
        host_key_algs = preferred + [a for a in defaults if a not in preferred]
        if self.key_file:
            client_keys: list[str] | None = [self.key_file]
        else:
            client_keys = None if self._password else ()  # type: ignore[assignment]
        try:
            conn, _client = await asyncssh.create_connection(
                lambda: check,
                self.host,
                self.port,
                username=self.username or (),
                password=self._password,
                client_keys=client_keys,
                agent_path=None if (self.key_file or self._password) else (),
                known_hosts=(pinned, [], []),
                server_host_key_algs=host_key_algs,
                config=None,
                connect_timeout=self.connect_timeout,
                keepalive_interval=KEEPALIVE_INTERVAL,
                keepalive_count_max=KEEPALIVE_COUNT,
            )
        except asyncssh.HostKeyNotVerifiable:
            presented = _fingerprint(check.presented) if check.presented else "?"
            expected = ", ".join(_fingerprint(k) for k in pinned) or "?"
            log.error("sync: host key of %s changed: expected %s, presented %s", name, expected, presented)
            raise SyncBackendError(
                _("The host key of {host} has changed: expected {expected}, the server presented {presented}. "
                  "The connection was refused. If the server's key was really replaced, remove its line "
                  "from {file}.").format(host=name, expected=expected, presented=presented, file=self.known_hosts)
            ) from None
        except asyncssh.PermissionDenied:
            raise SyncBackendError(
                _("{where}: authentication failed (check the user name, key or password).").format(where=self._where)
            ) from None
        except (asyncssh.Error, OSError, asyncio.TimeoutError, ValueError) as exc:
            raise SyncBackendError(self._connect_message(exc)) from None
        try:
            if check.presented is not None and not pinned:
                await self._pin(name, check.presented)
            self._sftp = await conn.start_sftp_client()
        except SyncBackendError:
            conn.close()
            raise
        except (asyncssh.Error, OSError) as exc:
            conn.close()
            raise SyncBackendError(
                _("{where}: the server does not offer SFTP: {error}").format(where=self._where, error=self._text(exc))
            ) from None
        self._conn = conn
        log.info("sync: connected to %s (root %s)", self._where, self.root)

    def _connect_message(self, exc: BaseException) -> str:
        if isinstance(exc, asyncio.TimeoutError):
            return _("{where}: no answer within {seconds} seconds.").format(
                where=self._where, seconds=f"{self.connect_timeout:g}")
        if isinstance(exc, ConnectionRefusedError):
            return _("{where}: the connection was refused (is the SSH server running, is the port right?).").format(
                where=self._where)
        # Anything else, e.g. an unreachable network, a disconnect, or (ValueError) a key file
        # asyncssh cannot read.
        return _("Cannot connect to {where}: {error}").format(where=self._where, error=self._text(exc))

    def _text(self, exc: BaseException) -> str:
        text = str(getattr(exc, "reason", "") or exc) or type(exc).__name__
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _pinned_keys(self) -> list[asyncssh.SSHKey]:
        try:
            data = self.known_hosts.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SyncBackendError(
                _("Cannot read the known hosts file {file}: {error}").format(file=self.known_hosts, error=exc.strerror)
            ) from None
        try:
            # addr = host: the file names hosts the way the settings do; a port-specific entry
            # wins over a portless one (asyncssh falls back to the latter only if the former is missing).
            keys = asyncssh.import_known_hosts(data.decode("utf-8", "replace")).match(self.host, self.host, self.port)[0]
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise SyncBackendError(
                _("The known hosts file {file} is damaged: {error}").format(file=self.known_hosts, error=exc)
            ) from None
        unique: list[asyncssh.SSHKey] = []
        for key in keys:  # the host matches as a name and as an address: the same line twice
            if key not in unique:
                unique.append(key)
        return unique

    async def _pin(self, name: str, key: asyncssh.SSHKey) -> None:
        kind, blob = key.export_public_key("openssh").decode().split()[:2]
        line = f"{name} {kind} {blob}\n"

        def write() -> None:
            try:
                old = self.known_hosts.read_text(encoding="utf-8")
            except FileNotFoundError:
                old = ""
            if old and not old.endswith("\n"):
                old += "\n"
            fileio.atomic_write(self.known_hosts, old + line, mode=0o644)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            raise SyncBackendError(
                _("Cannot save the host key of {host} to {file}: {error}").format(
                    host=name, file=self.known_hosts, error=exc)
            ) from None
        fingerprint = _fingerprint(key)
        log.info("sync: pinned the host key of %s on first contact: %s", name, fingerprint)
        if self.on_new_host_key is not None:
            self.on_new_host_key(fingerprint)

    async def _drop(self) -> None:
        sftp, conn = self._sftp, self._conn
        self._sftp = self._conn = None
        if sftp is not None:
            sftp.exit()
        if conn is not None:
            conn.close()
            try:
                await conn.wait_closed()
            except (asyncssh.Error, OSError):
                pass

    async def close(self) -> None:
        async with self._connect_lock:
            await self._drop()

    # --- operations -------------------------------------------------------------------------

    def _remote(self, path: str) -> str:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise SyncBackendError(_("The path {path} leaves the sync folder.").format(path=path))
        return posixpath.join(self.root, *parts) if parts else self.root

    async def _run(self, what: str, path: str, op: Callable[[asyncssh.SFTPClient, str], Awaitable[T]]) -> T:
        remote = self._remote(path)
        if self._sftp is None or self._conn is None or self._conn.is_closed():
            await self.connect()
        assert self._sftp is not None
        try:
            return await op(self._sftp, remote)
        except asyncssh.SFTPPermissionDenied:
            raise SyncBackendError(
                _("{where}: permission denied ({what} {path}).").format(where=self._where, what=what, path=remote)
            ) from None
        except asyncssh.SFTPNoSuchFile:
            raise SyncBackendError(
                _("{where}: {path} does not exist.").format(where=self._where, path=remote)
            ) from None
        except asyncssh.SFTPError as exc:
            if not isinstance(exc, asyncssh.SFTPConnectionLost):
                raise SyncBackendError(
                    _("{where}: {what} {path} failed: {error}").format(
                        where=self._where, what=what, path=remote, error=self._text(exc))
                ) from None
            lost: BaseException = exc
        except (asyncssh.Error, OSError, asyncio.TimeoutError, EOFError) as exc:
            lost = exc
        # The link is gone; the next call reconnects.
        await self._drop()
        raise SyncBackendError(
            _("{where}: the connection was lost ({what} {path}): {error}").format(
                where=self._where, what=what, path=remote, error=self._text(lost))
        )

    async def listdir(self, path: str) -> list[RemoteFile]:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> list[RemoteFile]:
            try:
                names = await sftp.readdir(remote)
            except asyncssh.SFTPNoSuchFile:
                return []
            return [_record(str(n.filename), n.attrs) for n in names if n.filename not in (".", "..")]

        return await self._run(_("listing"), path, op)

    async def stat(self, path: str) -> RemoteFile | None:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> RemoteFile | None:
            try:
                attrs = await sftp.stat(remote)
            except asyncssh.SFTPNoSuchFile:
                return None
            return _record(posixpath.basename(remote), attrs)

        return await self._run(_("checking"), path, op)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> bytes:
            async with sftp.open(remote, "rb") as f:
                data = await f.read(-1 if length is None else length, offset)
            return data if isinstance(data, bytes) else data.encode()

        return await self._run(_("reading"), path, op)

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> None:
            async with sftp.open(remote, "r+b") as f:
                await f.write(data, offset)

        await self._run(_("writing"), path, op)

    async def write_new(self, path: str, data: bytes) -> None:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> None:
            async with sftp.open(remote, "wb") as f:
                await f.write(data, 0)
                await _fsync(f)

        await self._run(_("writing"), path, op)

    async def rename(self, src: str, dst: str) -> None:
        target = self._remote(dst)

        async def op(sftp: asyncssh.SFTPClient, remote: str) -> None:
            try:
                # posix-rename@openssh.com replaces the target in one step.
                await sftp.posix_rename(remote, target)
                return
            except asyncssh.SFTPOpUnsupported:
                pass
            # Plain SFTP rename refuses an existing target: remove it first (not atomic, but
            # readers go by the manifest, which is written last).
            try:
                await sftp.remove(target)
            except asyncssh.SFTPNoSuchFile:
                pass
            await sftp.rename(remote, target)

        await self._run(_("renaming"), src, op)

    async def makedirs(self, path: str) -> None:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> None:
            await sftp.makedirs(remote, exist_ok=True)

        await self._run(_("creating the folder"), path, op)

    async def remove(self, path: str) -> None:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> None:
            try:
                await sftp.remove(remote)
            except asyncssh.SFTPNoSuchFile:
                pass  # already gone is what the caller wanted

        await self._run(_("removing"), path, op)

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        async def op(sftp: asyncssh.SFTPClient, remote: str) -> bool:
            flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL
            try:
                f = await sftp.open(remote, flags, encoding=None)
            except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
                # SFTP v3 servers report O_EXCL on an existing file as a generic failure: it
                # means "exists" only if the file is there.
                if await sftp.exists(remote):
                    return False
                raise
            async with f:
                await f.write(data, 0)
                await _fsync(f)
            return True

        return await self._run(_("creating"), path, op)


async def _fsync(f: asyncssh.SFTPClientFile) -> None:
    # So that a rename after a server crash never exposes an empty file; optional extension.
    try:
        await f.fsync()
    except asyncssh.SFTPOpUnsupported:
        pass


def _record(name: str, attrs: asyncssh.SFTPAttrs) -> RemoteFile:
    if attrs.permissions is not None:
        is_dir = stat_mod.S_ISDIR(attrs.permissions)
    else:
        is_dir = attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY
    return RemoteFile(name=name, size=attrs.size or 0, mtime=float(attrs.mtime or 0), is_dir=is_dir)
