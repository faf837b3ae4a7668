"""The SMB sync backend (smbprotocol, SMB 2/3): a folder inside a share on the user's file server or NAS.

`SmbBackend(host, share, root, username=..., password=..., port=...)` meets the Backend protocol
of sync/backend.py. Paths are POSIX and relative to `root`, a folder inside the share ("" is the
share itself); a path that would leave it is refused. It uses smbprotocol's low-level API (one
Connection, Session and TreeConnect of its own, no process-wide connection cache), so `port` is
honoured and two backends never share a connection. The session is encrypted when the server
offers SMB 3 encryption and signed otherwise.

smbprotocol blocks, so every operation runs in a worker thread, one at a time per backend (the
blocking halves live in sync/smb_io.py). A watchdog aborts an operation whose server has not
answered for `op_timeout` seconds (smbprotocol itself would wait forever on a silent server) by
shutting the socket down, which wakes the thread. A lost connection is noticed before the next
operation, which reconnects; an operation that finds a kept connection dead reconnects and runs
once more (except rename and create_exclusive, which may have taken effect).

Every failure (refused, unreachable, timeout, logon failure, unknown share, access denied, not
found, a lost connection) becomes SyncBackendError with a message for people; the password never
appears in it or in the log. Not here: what to sync and when (sync/engine.py), where the settings
come from (the caller resolves `keyring:` secrets before constructing the backend).
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from smbprotocol import exceptions as smbexc  # type: ignore[import-untyped]
from smbprotocol.connection import Connection  # type: ignore[import-untyped]
from smbprotocol.open import CreateDisposition  # type: ignore[import-untyped]
from smbprotocol.session import Session  # type: ignore[import-untyped]
from smbprotocol.tree import TreeConnect  # type: ignore[import-untyped]

from molt_desktop.i18n import _
from molt_desktop.logs import get_logger, register_secret
from molt_desktop.sync import smb_io
from molt_desktop.sync.backend import RemoteFile, SyncBackendError

log = get_logger("sync")

T = TypeVar("T")

CONNECT_TIMEOUT = 20.0
# How long a server may stay silent during one operation before the connection is given up.
OP_TIMEOUT = 60.0
# After an abort, how long to wait for the worker thread to notice before reporting anyway.
ABORT_GRACE = 5.0

_LOGON = (smbexc.LogonFailure, smbexc.WrongPassword, smbexc.PasswordExpired, smbexc.SMBAuthenticationError)


class SmbBackend:
    """A Backend on an SMB share. Connects lazily on first use; reconnects after a lost link."""

    def __init__(
        self,
        host: str,
        share: str,
        root: str = "",
        *,
        username: str | None,
        password: str | None,
        port: int = 445,
        connect_timeout: float = CONNECT_TIMEOUT,
        op_timeout: float = OP_TIMEOUT,
    ) -> None:
        self.host = host.strip()
        self.share = share.strip().strip("\\/")
        self.root_parts = [p for p in root.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in self.root_parts:
            raise SyncBackendError(_("The folder {path} leaves the share.").format(path=root))
        self.username = username or ""
        self._password = password or ""
        register_secret(password)
        self.port = port
        self.connect_timeout = connect_timeout
        self.op_timeout = op_timeout
        self._link: smb_io.Link | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:  # never shows the password
        return f"SmbBackend({self._where})"

    @property
    def _where(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{user}{self.host}:{self.port}/{self.share}"

    # --- connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        async with self._lock:
            await self._ensure()

    async def close(self) -> None:
        async with self._lock:
            link, self._link = self._link, None
            if link is not None:
                await _close_link(link)

    async def _ensure(self) -> smb_io.Link:
        if self._link is not None and self._link.alive:
            return self._link
        if self._link is not None:
            old, self._link = self._link, None
            await _close_link(old)
        if not self.username:
            raise SyncBackendError(_("{where}: SMB needs a user name.").format(where=self._where))
        link = smb_io.Link()
        try:
            await self._watch(link, lambda: self._open(link), self.connect_timeout, connecting=True)
        except BaseException as exc:
            await _close_link(link)
            if isinstance(exc, (smbexc.SMBException, OSError, ValueError)):
                raise SyncBackendError(_("Cannot connect to {where}: {error}").format(
                    where=self._where, error=self._text(exc))) from None
            raise
        self._link = link
        log.info("sync: connected to %s (folder %s)", self._where, "/".join(self.root_parts) or "/")
        return link

    def _open(self, link: smb_io.Link) -> None:
        """Blocking: connect, log on, and connect to the share; errors become SyncBackendError."""
        where = self._where
        link.connection = Connection(uuid.uuid4(), self.host, self.port, require_signing=True)
        try:
            link.connection.connect(timeout=self.connect_timeout)
        except ValueError as exc:  # smbprotocol wraps the socket error of the TCP connect
            cause = exc.__cause__
            if isinstance(cause, ConnectionRefusedError):
                raise SyncBackendError(_(
                    "{where}: the connection was refused (is the SMB server running, is the port right?)."
                ).format(where=where)) from None
            if isinstance(cause, (socket.timeout, TimeoutError)):
                raise SyncBackendError(self._timeout_message(self.connect_timeout)) from None
            raise SyncBackendError(_("Cannot connect to {where}: {error}").format(
                where=where, error=self._text(cause or exc))) from None
        except smbexc.SMBException as exc:
            if "timeout" in str(exc).lower():
                raise SyncBackendError(self._timeout_message(self.connect_timeout)) from None
            raise
        link.touch()
        link.session = Session(link.connection, self.username, self._password,
                               require_encryption=bool(link.connection.supports_encryption),
                               auth_protocol="ntlm")
        try:
            link.session.connect()
        except (*_LOGON, smbexc.AccessDenied):
            raise SyncBackendError(_(
                "{where}: logon failed (check the user name and password).").format(where=where)) from None
        link.touch()
        link.tree = TreeConnect(link.session, rf"\\{self.host}\{self.share}")
        try:
            link.tree.connect()
        except smbexc.BadNetworkName:
            raise SyncBackendError(_("{where}: the server has no share named {share}.").format(
                where=where, share=self.share)) from None
        except smbexc.AccessDenied:
            raise SyncBackendError(_("{where}: access to the share {share} was denied.").format(
                where=where, share=self.share)) from None
        link.touch()

    def _timeout_message(self, seconds: float) -> str:
        return _("{where}: no answer within {seconds} seconds.").format(where=self._where, seconds=f"{seconds:g}")

    def _text(self, exc: BaseException) -> str:
        if isinstance(exc, smbexc.SMBResponseException):
            text = f"{exc._BASE_MESSAGE} ({exc.header['status']})"
        else:
            text = str(exc) or type(exc).__name__
        if self._password:
            text = text.replace(self._password, "***")
        return text

    async def _watch(self, link: smb_io.Link, func: Callable[[], T], limit: float, *, connecting: bool = False) -> T:
        """Run `func` in a worker thread; abort the link when the server is silent for `limit` seconds."""
        link.progress = time.monotonic()
        future = asyncio.ensure_future(asyncio.to_thread(func))
        try:
            while True:
                idle = time.monotonic() - link.progress
                done, _pending = await asyncio.wait({future}, timeout=max(limit - idle, 0.05))
                if done:
                    return future.result()
                if time.monotonic() - link.progress >= limit:
                    break
        except asyncio.CancelledError:
            # The thread cannot be cancelled; cut its connection so it ends and nothing else uses it.
            link.abort()
            if self._link is link:
                self._link = None
            future.add_done_callback(_forget)
            raise
        link.abort()
        if self._link is link:
            self._link = None
        await asyncio.wait({future}, timeout=ABORT_GRACE)
        if future.done() and not future.cancelled():
            future.exception()  # seen, so asyncio does not report it as never retrieved
        else:
            future.add_done_callback(_forget)
        if connecting:
            raise SyncBackendError(self._timeout_message(limit))
        raise SyncBackendError(_("{where}: the server did not answer for {seconds} seconds; the connection was "
                                 "dropped.").format(where=self._where, seconds=f"{limit:g}"))

    # --- operations -------------------------------------------------------------------------

    def _name(self, path: str) -> str:
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise SyncBackendError(_("The path {path} leaves the sync folder.").format(path=path))
        return "\\".join(self.root_parts + parts)

    async def _run(self, what: str, path: str, op: Callable[[smb_io.Link, str], T], *, retry: bool = True) -> T:
        name = self._name(path)
        shown = name.replace("\\", "/")
        async with self._lock:
            while True:
                reused = self._link is not None and self._link.alive
                link = await self._ensure()
                try:
                    return await self._watch(link, lambda: op(link, name), self.op_timeout)
                except (smb_io.Lost, *smb_io.LOST) as exc:
                    lost: BaseException = exc
                except smbexc.AccessDenied:
                    raise SyncBackendError(_("{where}: permission denied ({what} {path}).").format(
                        where=self._where, what=what, path=shown)) from None
                except smb_io.MISSING:
                    raise SyncBackendError(_("{where}: {path} does not exist.").format(
                        where=self._where, path=shown)) from None
                except smbexc.DiskFull:
                    raise SyncBackendError(_("{where}: the share is full ({what} {path}).").format(
                        where=self._where, what=what, path=shown)) from None
                except smbexc.SMBException as exc:
                    if isinstance(exc, smbexc.SMBResponseException) or link.alive:
                        raise SyncBackendError(_("{where}: {what} {path} failed: {error}").format(
                            where=self._where, what=what, path=shown, error=self._text(exc))) from None
                    lost = exc
                # The link is gone; the next call reconnects.
                if self._link is link:
                    self._link = None
                await _close_link(link)
                if reused and retry:
                    # A connection kept from an earlier call died in between (server restarted, idle
                    # link dropped): once more on a new one. Not for rename and create_exclusive,
                    # whose first attempt may have taken effect.
                    log.info("sync: %s: the connection was lost, reconnecting: %s", self._where, self._text(lost))
                    retry = False
                    continue
                raise SyncBackendError(_("{where}: the connection was lost ({what} {path}): {error}").format(
                    where=self._where, what=what, path=shown, error=self._text(lost)))

    async def listdir(self, path: str) -> list[RemoteFile]:
        return await self._run(_("listing"), path, smb_io.listdir)

    async def stat(self, path: str) -> RemoteFile | None:
        return await self._run(_("checking"), path, smb_io.stat)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        return await self._run(_("reading"), path, lambda link, name: smb_io.read(link, name, offset, length))

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        # FILE_OPEN: the file must exist, and nothing before or after the written range changes.
        await self._run(_("writing"), path, lambda link, name: smb_io.write(
            link, name, CreateDisposition.FILE_OPEN, offset, data))

    async def write_new(self, path: str, data: bytes) -> None:
        await self._run(_("writing"), path, lambda link, name: smb_io.write(
            link, name, CreateDisposition.FILE_OVERWRITE_IF, 0, data))

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        # FILE_CREATE fails on an existing file in the server, so two devices never both get the lock.
        return await self._run(_("creating"), path, lambda link, name: smb_io.write(
            link, name, CreateDisposition.FILE_CREATE, 0, data), retry=False)

    async def rename(self, src: str, dst: str) -> None:
        target = self._name(dst)
        await self._run(_("renaming"), src, lambda link, name: smb_io.rename(link, name, target), retry=False)

    async def makedirs(self, path: str) -> None:
        await self._run(_("creating the folder"), path, smb_io.makedirs)

    async def remove(self, path: str) -> None:
        await self._run(_("removing"), path, smb_io.remove)


async def _close_link(link: smb_io.Link) -> None:
    """Close in a worker thread; a server that does not answer the logoff gets its socket shut."""
    future = asyncio.ensure_future(asyncio.to_thread(link.close))
    done, _pending = await asyncio.wait({future}, timeout=ABORT_GRACE)
    if not done:
        link.abort()
        future.add_done_callback(_forget)


def _forget(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # seen, so asyncio does not report it as never retrieved


def _check(backend: SmbBackend) -> None:
    """Static check that SmbBackend meets the Backend protocol."""
    from molt_desktop.sync.backend import Backend

    _backend: Backend = backend
