"""LocalFolderBackend: the Backend over a plain folder (a mounted SMB/NFS share, or a test's tmp dir).

Every call runs in a worker thread, since a mounted network share can block. Paths are POSIX and
relative to the root; one that would leave the root is refused. The sync logic lives in engine.py.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path, PurePosixPath
from typing import Callable, TypeVar

from molt_desktop.sync.backend import RemoteFile, SyncBackendError

FILE_MODE = 0o600
T = TypeVar("T")


class LocalFolderBackend:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, path: str) -> Path:
        parts = PurePosixPath(path).parts
        if PurePosixPath(path).is_absolute() or any(p in ("..", "") for p in parts):
            raise SyncBackendError(f"path outside the sync folder: {path!r}")
        return self.root.joinpath(*parts)

    async def _run(self, what: str, path: str, func: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(func)
        except SyncBackendError:
            raise
        except OSError as exc:
            raise SyncBackendError(f"{what} {path}: {exc.strerror or exc}") from exc

    async def connect(self) -> None:
        if not await asyncio.to_thread(self.root.is_dir):
            raise SyncBackendError(f"sync folder not found: {self.root}")

    async def close(self) -> None:
        return None

    async def listdir(self, path: str) -> list[RemoteFile]:
        target = self._path(path)

        def run() -> list[RemoteFile]:
            try:
                entries = list(os.scandir(target))
            except (FileNotFoundError, NotADirectoryError):
                return []
            out = []
            for entry in entries:
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                out.append(RemoteFile(entry.name, st.st_size, st.st_mtime, entry.is_dir()))
            return sorted(out)

        return await self._run("list", path, run)

    async def stat(self, path: str) -> RemoteFile | None:
        target = self._path(path)

        def run() -> RemoteFile | None:
            try:
                st = target.stat()
            except (FileNotFoundError, NotADirectoryError):
                return None
            return RemoteFile(target.name, st.st_size, st.st_mtime, target.is_dir())

        return await self._run("stat", path, run)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        target = self._path(path)

        def run() -> bytes:
            with open(target, "rb") as fh:
                fh.seek(offset)
                return fh.read() if length is None else fh.read(length)

        return await self._run("read", path, run)

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        target = self._path(path)

        def run() -> None:
            # r+b: the file must exist, and bytes before `offset` stay as they are.
            with open(target, "r+b") as fh:
                fh.seek(offset)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())

        await self._run("write", path, run)

    async def write_new(self, path: str, data: bytes) -> None:
        target = self._path(path)

        def run() -> None:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())

        await self._run("write", path, run)

    async def rename(self, src: str, dst: str) -> None:
        source, target = self._path(src), self._path(dst)
        await self._run("rename", src, lambda: os.replace(source, target))

    async def makedirs(self, path: str) -> None:
        target = self._path(path)
        await self._run("create folder", path, lambda: os.makedirs(target, mode=0o700, exist_ok=True))

    async def remove(self, path: str) -> None:
        """Remove a file; one that is already gone is not an error."""
        target = self._path(path)

        def run() -> None:
            try:
                os.remove(target)
            except FileNotFoundError:
                pass

        await self._run("remove", path, run)

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        target = self._path(path)

        def run() -> bool:
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            return True

        return await self._run("create", path, run)


def _check(backend: LocalFolderBackend) -> None:
    """Static check that LocalFolderBackend meets the Backend protocol."""
    from molt_desktop.sync.backend import Backend

    _: Backend = backend
