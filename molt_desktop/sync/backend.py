"""The storage contract every sync backend meets (local folder, SFTP): paths, errors and file records.

Only the protocol lives here; the implementations live in sync/local.py and sync/sftp.py, and the
sync logic that uses them in sync/engine.py.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol


class SyncBackendError(Exception):
    """A storage operation failed; the message is for people and never holds a password."""


class RemoteFile(NamedTuple):
    name: str
    size: int
    mtime: float
    is_dir: bool


class Backend(Protocol):
    """Paths are POSIX, relative to the backend's root."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def listdir(self, path: str) -> list[RemoteFile]:
        """Entries of a directory; a missing directory gives []."""
        ...

    async def stat(self, path: str) -> RemoteFile | None: ...

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes: ...

    async def write_at(self, path: str, offset: int, data: bytes) -> None:
        """Write `data` at `offset` into an existing file (append/extend in place)."""
        ...

    async def write_new(self, path: str, data: bytes) -> None:
        """Create or overwrite `path` (used for temp names before a rename)."""
        ...

    async def rename(self, src: str, dst: str) -> None:
        """Move `src` to `dst`, replacing `dst` atomically where the server can."""
        ...

    async def makedirs(self, path: str) -> None: ...

    async def remove(self, path: str) -> None: ...

    async def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create `path` with `data` unless it exists; False when it exists (locks)."""
        ...
