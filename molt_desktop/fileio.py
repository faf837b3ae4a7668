"""The one way molt_desktop rewrites a file: atomically (temp file, fsync, rename), mode 0600.

Every file that is rewritten whole (sessions.json, the config, devices, manifests) goes through
`atomic_write`. Append-only transcripts are not rewritten and live in sessions/transcript.py.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o600


class FileWriteError(OSError):
    """A file could not be written; the previous contents are untouched."""


def ensure_private_dir(path: Path) -> None:
    """Create a directory (and parents) readable only by the user on POSIX."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def atomic_write(path: Path, data: bytes | str, mode: int = PRIVATE_MODE) -> None:
    """Replace `path` with `data` so that readers see either the old or the new file, never half.

    On failure (disk full, permissions) the old file is left as it was and FileWriteError says
    which file and why.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            if os.name == "posix":
                os.fchmod(fd, mode)
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileWriteError(exc.errno, f"could not write {path}: {exc.strerror or exc}") from exc
    if os.name == "posix":
        _fsync_dir(path.parent)


def atomic_write_json(path: Path, value: Any, mode: int = PRIVATE_MODE, indent: int | None = 2) -> None:
    atomic_write(path, json.dumps(value, indent=indent, ensure_ascii=False), mode)


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
