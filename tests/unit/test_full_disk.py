"""A full disk and a read-only disk, for real: the store on a tiny tmpfs.

The session store must refuse with a clear error and keep what it had: sessions.json whole,
transcripts readable (at most one torn last line, ignored), and work again once there is room.
Mounting needs root (CI runs as root); elsewhere these tests are skipped with that reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from molt_desktop.sessions.store import SessionStore, SessionStoreError

KEY = "agent:main:full-disk"


def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    _mount(mount_point, "256k")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Take every free byte of the disk; returns the filler to delete for room again."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def _new_store(disk: Path) -> SessionStore:
    store = SessionStore(disk / "state")
    store.ensure(KEY, provider="fake", model="fake-1", model_api="openai-completions", context_tokens=32000)
    store.append_message(KEY, {"role": "user", "content": [{"type": "text", "text": "before the disk filled"}],
                               "timestamp": 1})
    return store


def test_full_disk_keeps_sessions_json_and_the_transcript(small_disk: Path) -> None:
    store = _new_store(small_disk)
    index = store.sessions_file()
    before = index.read_bytes()
    filler = _fill(small_disk)

    with pytest.raises(SessionStoreError) as err:
        store.update(KEY, {"label": "x" * 20000})
    assert "space" in str(err.value).lower() or "No space" in str(err.value)
    assert index.read_bytes() == before
    json.loads(before)

    big = {"role": "assistant", "content": [{"type": "text", "text": "y" * 50000}], "timestamp": 2}
    with pytest.raises(OSError):
        store.append_message(KEY, big)
    history = store.history(KEY)
    assert [m["content"][0]["text"] for m in history.messages] == ["before the disk filled"]

    filler.unlink()
    store.append_message(KEY, {"role": "assistant", "content": [{"type": "text", "text": "room again"}],
                               "timestamp": 3})
    texts = [m["content"][0]["text"] for m in store.history(KEY).messages]
    assert texts == ["before the disk filled", "room again"]
    transcript = store.transcript_path(store.get(KEY) or {})
    for line in transcript.read_text(encoding="utf-8").splitlines():
        json.loads(line)  # the torn write was repaired: every line is whole
    store.close()


def test_read_only_disk_refuses_with_a_clear_error(small_disk: Path) -> None:
    store = _new_store(small_disk)
    index = store.sessions_file()
    before = index.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(SessionStoreError, match="permissions|read-only|Read-only"):
            store.update(KEY, {"label": "lost"})
        with pytest.raises(OSError):
            store.append_message(KEY, {"role": "user", "content": "lost", "timestamp": 2})
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert index.read_bytes() == before
    assert len(store.history(KEY).messages) == 1
    store.close()
