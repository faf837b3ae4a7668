"""The manifest format, the local scan and its hash cache, and the push plan (no backend here)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from molt_desktop.sync.manifest import (
    FileEntry,
    Manifest,
    ManifestError,
    device_folder,
    local_index_path,
    plan_push,
    safe_relpath,
    scan_local,
)
from tests.sync.helpers import SESS, session_file


def _write(state: Path, name: str, data: bytes) -> Path:
    path = session_file(state, name, data)
    # Older than the racy window, so the cache may trust the hash.
    os.utime(path, (1_700_000_000, 1_700_000_000))
    return path


def _entry(data: bytes) -> FileEntry:
    return FileEntry(len(data), hashlib.sha256(data).hexdigest(), 1.0)


def test_manifest_roundtrip_is_compact_and_validated() -> None:
    m = Manifest({"name": "laptop", "id": "abcdef0123456789"}, {f"{SESS}/a.jsonl": _entry(b"x\n")})
    data = m.dumps()
    assert b"\n" not in data and b": " not in data
    back = Manifest.loads(data)
    assert back.files == m.files and back.device == m.device and back.version == 1
    for bad in (b"{", b"[]", b'{"version":2}', json.dumps({"version": 1, "files": {"../x": {}}}).encode()):
        try:
            Manifest.loads(bad)
        except ManifestError:
            continue
        raise AssertionError(bad)


def test_paths_and_device_folder() -> None:
    assert safe_relpath(f"{SESS}/a.jsonl") and safe_relpath(f"{SESS}/sessions.json")
    assert safe_relpath(f"{SESS}/a.jsonl.deleted.2026-01-01T00-00-00.000Z")
    assert safe_relpath(f"{SESS}/sessions.json.deleted.x")
    for bad in ("../a.jsonl", f"{SESS}/../a.jsonl", f"{SESS}/.a.jsonl.tmp", f"{SESS}/notes.txt", "/agents/m/sessions/a.jsonl"):
        assert not safe_relpath(bad), bad
    assert device_folder("Bob's MacBook", "0123456789abcdef") == "Bob-s-MacBook-01234567"


def test_scan_caches_hashes_and_rebuilds_a_torn_index(tmp_path: Path) -> None:
    _write(tmp_path, "a.jsonl", b"one\n")
    _write(tmp_path, "sessions.json", b"{}")
    _write(tmp_path, ".sessions.json.x.tmp", b"half")
    first = scan_local(tmp_path)
    assert set(first.files) == {f"{SESS}/a.jsonl", f"{SESS}/sessions.json"} and first.hashed == 2
    assert first.files[f"{SESS}/a.jsonl"].sha256 == hashlib.sha256(b"one\n").hexdigest()
    again = scan_local(tmp_path)
    assert again.hashed == 0 and again.files == first.files
    index = local_index_path(tmp_path)
    index.write_bytes(index.read_bytes()[:20])  # torn
    rebuilt = scan_local(tmp_path)
    assert rebuilt.hashed == 2 and rebuilt.files == first.files
    assert scan_local(tmp_path).hashed == 0


def test_scan_rehashes_a_changed_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.jsonl", b"one\n")
    scan_local(tmp_path)
    path.write_bytes(b"two\n")
    os.utime(path, (1_700_000_100, 1_700_000_100))
    scan = scan_local(tmp_path)
    assert scan.hashed == 1 and scan.files[f"{SESS}/a.jsonl"].sha256 == hashlib.sha256(b"two\n").hexdigest()


def test_plan_kinds(tmp_path: Path) -> None:
    _write(tmp_path, "grown.jsonl", b"line1\nline2\n")
    _write(tmp_path, "rewritten.jsonl", b"other1\nline2\n")
    _write(tmp_path, "same.jsonl", b"same\n")
    _write(tmp_path, "new.jsonl", b"new\n")
    local = scan_local(tmp_path).files
    manifest = Manifest(
        {"name": "d", "id": "1"},
        {
            f"{SESS}/grown.jsonl": _entry(b"line1\n"),
            f"{SESS}/rewritten.jsonl": _entry(b"line1\n"),
            f"{SESS}/same.jsonl": _entry(b"same\n"),
            f"{SESS}/gone.jsonl": _entry(b"gone\n"),
            f"{SESS}/old.jsonl.deleted.t": _entry(b"old\n"),
        },
    )
    sizes = {f"{SESS}/grown.jsonl": 6, f"{SESS}/rewritten.jsonl": 6}
    plan = plan_push(tmp_path, local, manifest, sizes, "T")
    kinds = {a.rel: a.kind for a in plan.actions}
    assert kinds == {
        f"{SESS}/grown.jsonl": "append",
        f"{SESS}/rewritten.jsonl": "replace",
        f"{SESS}/same.jsonl": "skip",
        f"{SESS}/new.jsonl": "replace",
        f"{SESS}/gone.jsonl": "archive",
        f"{SESS}/old.jsonl.deleted.t": "skip",
    }
    (append,) = plan.of("append")
    assert append.offset == 6
    (archive,) = plan.of("archive")
    assert archive.dest == f"{SESS}/gone.jsonl.deleted.T"
    assert plan.live_remote == 4
    # A remote that does not hold what the manifest says is never appended to: missing, shorter,
    # or longer than the local file. Longer than the manifest but within the local file: the bytes
    # of a stopped append, overwritten from the committed length.
    for size, kind in ((None, "replace"), (5, "replace"), (13, "replace"), (9, "append"), (12, "append")):
        plan = plan_push(tmp_path, local, manifest, {f"{SESS}/grown.jsonl": size}, "T")
        assert {a.rel: a.kind for a in plan.actions}[f"{SESS}/grown.jsonl"] == kind, size


def test_plan_renames_a_locally_deleted_session_to_its_archive_name(tmp_path: Path) -> None:
    _write(tmp_path, "s1.jsonl.deleted.2026-01-01T00-00-00.000Z", b"hello\n")
    local = scan_local(tmp_path).files
    manifest = Manifest({"name": "d", "id": "1"}, {f"{SESS}/s1.jsonl": _entry(b"hello\n")})
    plan = plan_push(tmp_path, local, manifest, {}, "T")
    assert [(a.kind, a.rel, a.dest) for a in plan.actions] == [
        ("archive", f"{SESS}/s1.jsonl", f"{SESS}/s1.jsonl.deleted.2026-01-01T00-00-00.000Z")
    ]
