"""Blocking SMB operations for the SMB sync backend (sync/smb.py), run in its worker thread.

`Link` is one smbprotocol Connection, Session and TreeConnect with the time the server last
answered (`progress`), which the backend's watchdog reads; `Link.abort()` shuts the socket down to
wake a thread blocked on a silent server. The functions take a Link and a share-relative name with
backslashes and raise smbprotocol's exceptions (or `Lost`); turning those into messages for people,
threads and timeouts are the backend's. Not here: connecting (the backend does it, to word its
errors) and anything about what is synced.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from smbprotocol import exceptions as smbexc  # type: ignore[import-untyped]
from smbprotocol.file_info import (  # type: ignore[import-untyped]
    FileAttributes,
    FileInformationClass,
    FileRenameInformation,
)
from smbprotocol.open import (  # type: ignore[import-untyped]
    CreateDisposition,
    CreateOptions,
    DirectoryAccessMask,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    ShareAccess,
    SMB2SetInfoRequest,
    SMB2SetInfoResponse,
)

from molt_desktop.logs import get_logger
from molt_desktop.sync.backend import RemoteFile

log = get_logger("sync")

# Reads and writes go in pieces of at most this size, so the watchdog sees progress on a slow link.
IO_CHUNK = 1 << 20

_SHARE_ALL = ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
MISSING = (smbexc.ObjectNameNotFound, smbexc.ObjectPathNotFound, smbexc.NoSuchFile, smbexc.NotFound)
LOST = (smbexc.SMBConnectionClosed, OSError, EOFError)


class Lost(Exception):
    """The connection is gone (wraps what smbprotocol raised)."""


class Link:
    """One connection, session and tree connect; `progress` is when the server last answered."""

    def __init__(self) -> None:
        self.connection: Any = None
        self.session: Any = None
        self.tree: Any = None
        self.progress = time.monotonic()
        self.aborted = False

    def touch(self) -> None:
        self.progress = time.monotonic()
        if self.aborted:  # the watchdog gave up on this operation: stop before the next request
            raise Lost("the operation was aborted")

    @property
    def alive(self) -> bool:
        c = self.connection
        return (not self.aborted and c is not None and c.transport is not None and c.transport.connected
                and getattr(c, "_t_exc", None) is None)

    def abort(self) -> None:
        """Wake a thread blocked on this connection: shut the socket down (without smbprotocol's
        socket lock, which a send blocked on a full buffer holds)."""
        self.aborted = True
        sock = getattr(getattr(self.connection, "transport", None), "_sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            # A polite logoff only when the link still stands; a dead one is just closed.
            self.connection.disconnect(close=self.alive, timeout=5)
        except Exception as exc:  # closing is best effort whatever smbprotocol raises
            log.debug("smb: closing the connection: %s", exc)


def _create(link: Link, name: str, access: int, disposition: int, options: int) -> Any:
    handle = Open(link.tree, name)
    handle.create(ImpersonationLevel.Impersonation, access, FileAttributes.FILE_ATTRIBUTE_NORMAL, _SHARE_ALL,
                  disposition, options)
    link.touch()
    return handle


def _compound(link: Link, name: str, access: int, disposition: int, options: int,
              steps: Callable[[Any], list[tuple[Any, Any]]]) -> tuple[Any, list[Any]]:
    """Open `name`, run `steps(handle)` on it and close it in one round trip (a related compound).

    Returns the handle (its attributes are the create's) and the steps' results; raises the first
    failure, e.g. the create's when the file is missing (the later requests then fail with it).
    """
    handle = Open(link.tree, name)
    ops = [handle.create(ImpersonationLevel.Impersonation, access, FileAttributes.FILE_ATTRIBUTE_NORMAL, _SHARE_ALL,
                         disposition, options, send=False)]
    ops += steps(handle)
    ops.append(handle.close(send=False))
    requests = link.connection.send_compound([m for m, _ in ops], link.session.session_id,
                                             link.tree.tree_connect_id, related=True)
    results: list[Any] = []
    error: BaseException | None = None
    for request, (_msg, unpack) in zip(requests, ops):
        # Every response is received, even after a failure, so none is left pending on the connection.
        try:
            results.append(unpack(request))
        except smbexc.SMBResponseException as exc:
            results.append(exc)
            error = error or exc
    link.touch()
    if error is not None:
        raise error
    return handle, results[1:-1]


def _close(link: Link, handle: Any) -> None:
    try:
        handle.close()
    except (smbexc.SMBException, *LOST):
        # The operation's own outcome (or failure) is what matters; a close that fails on a
        # broken link is noticed by the next operation.
        pass
    link.touch()


def _is_dir(attributes: Any) -> bool:
    return bool(int(attributes) & FileAttributes.FILE_ATTRIBUTE_DIRECTORY)


def listdir(link: Link, name: str) -> list[RemoteFile]:
    try:
        handle = _create(link, name, DirectoryAccessMask.FILE_LIST_DIRECTORY | DirectoryAccessMask.FILE_READ_ATTRIBUTES,
                         CreateDisposition.FILE_OPEN, CreateOptions.FILE_DIRECTORY_FILE)
    except (*MISSING, smbexc.StatusNotADirectory):
        return []
    out: list[RemoteFile] = []
    try:
        while True:
            try:
                entries = handle.query_directory("*", FileInformationClass.FILE_DIRECTORY_INFORMATION)
            except smbexc.NoMoreFiles:
                break
            link.touch()
            for entry in entries:
                filename = entry["file_name"].get_value().decode("utf-16-le")
                if filename in (".", ".."):
                    continue
                out.append(RemoteFile(filename, int(entry["end_of_file"].get_value()),
                                      entry["last_write_time"].get_value().timestamp(),
                                      _is_dir(entry["file_attributes"].get_value())))
    finally:
        _close(link, handle)
    return sorted(out)


def stat(link: Link, name: str) -> RemoteFile | None:
    try:
        handle, _results = _compound(link, name, FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES,
                                     CreateDisposition.FILE_OPEN, 0, lambda h: [])
    except (*MISSING, smbexc.StatusNotADirectory):
        return None
    return RemoteFile(name.rsplit("\\", 1)[-1], int(handle.end_of_file), handle.last_write_time.timestamp(),
                      _is_dir(handle.file_attributes))


def read(link: Link, name: str, offset: int, length: int | None) -> bytes:
    access = FilePipePrinterAccessMask.FILE_READ_DATA | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES
    if length is not None and length <= min(IO_CHUNK, int(link.connection.max_read_size)):
        if length == 0:
            return b""
        try:
            _handle, (data,) = _compound(link, name, access, CreateDisposition.FILE_OPEN,
                                         CreateOptions.FILE_NON_DIRECTORY_FILE,
                                         lambda h: [h.read(offset, length, send=False)])
        except smbexc.EndOfFile:
            return b""
        return bytes(data)
    handle = _create(link, name, access, CreateDisposition.FILE_OPEN, CreateOptions.FILE_NON_DIRECTORY_FILE)
    try:
        end = int(handle.end_of_file) if length is None else offset + length
        step = min(IO_CHUNK, int(link.connection.max_read_size))
        parts: list[bytes] = []
        pos = offset
        while pos < end:
            try:
                chunk = handle.read(pos, min(step, end - pos))
            except smbexc.EndOfFile:
                break
            link.touch()
            if not chunk:
                break
            parts.append(chunk)
            pos += len(chunk)
        return b"".join(parts)
    finally:
        _close(link, handle)


def write(link: Link, name: str, disposition: int, offset: int, data: bytes) -> bool:
    """Open with `disposition` (FILE_CREATE: False when the file exists) and write `data` at `offset`."""
    access = FilePipePrinterAccessMask.FILE_WRITE_DATA | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES
    step = min(IO_CHUNK, int(link.connection.max_write_size))
    if len(data) <= step:
        # Open, write, flush and close in one round trip (the common case: appends, small files).
        def steps(h: Any) -> list[tuple[Any, Any]]:
            return ([h.write(data, offset, send=False)] if data else []) + [h.flush(send=False)]

        try:
            _handle, results = _compound(link, name, access, disposition, CreateOptions.FILE_NON_DIRECTORY_FILE, steps)
        except smbexc.ObjectNameCollision:
            if disposition == CreateDisposition.FILE_CREATE:
                return False
            raise
        if data and int(results[0]) != len(data):
            raise smbexc.SMBException(f"the server wrote {results[0]} of {len(data)} bytes")
        return True
    try:
        handle = _create(link, name, access, disposition, CreateOptions.FILE_NON_DIRECTORY_FILE)
    except smbexc.ObjectNameCollision:
        if disposition == CreateDisposition.FILE_CREATE:
            return False
        raise
    try:
        view = memoryview(data)
        pos = 0
        while pos < len(data):
            written = int(handle.write(bytes(view[pos:pos + step]), offset + pos))
            link.touch()
            if written <= 0:
                raise smbexc.SMBException("the server accepted no bytes")
            pos += written
        # Flush, so that a rename after a server crash never exposes a file missing its bytes.
        handle.flush()
        link.touch()
    finally:
        _close(link, handle)
    return True


def rename(link: Link, name: str, target: str) -> None:
    def steps(handle: Any) -> list[tuple[Any, Any]]:
        info = FileRenameInformation()
        info["replace_if_exists"] = True  # replaces the target in one step, as POSIX rename does
        info["file_name"] = target
        request = SMB2SetInfoRequest()
        request["info_type"] = info.INFO_TYPE
        request["file_info_class"] = info.INFO_CLASS
        request["file_id"] = handle.file_id
        request["buffer"] = info

        def unpack(sent: Any) -> Any:
            response = SMB2SetInfoResponse()
            response.unpack(link.connection.receive(sent)["data"].get_value())
            return response

        return [(request, unpack)]

    _compound(link, name, FilePipePrinterAccessMask.DELETE | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES,
              CreateDisposition.FILE_OPEN, 0, steps)


def makedirs(link: Link, name: str) -> None:
    parts = name.split("\\") if name else []
    for i in range(1, len(parts) + 1):
        handle = _create(link, "\\".join(parts[:i]), DirectoryAccessMask.FILE_READ_ATTRIBUTES,
                         CreateDisposition.FILE_OPEN_IF, CreateOptions.FILE_DIRECTORY_FILE)
        _close(link, handle)


def remove(link: Link, name: str) -> None:
    try:
        _compound(link, name, FilePipePrinterAccessMask.DELETE, CreateDisposition.FILE_OPEN,
                  CreateOptions.FILE_NON_DIRECTORY_FILE | CreateOptions.FILE_DELETE_ON_CLOSE, lambda h: [])
    except MISSING:
        pass  # already gone is what the caller wanted
