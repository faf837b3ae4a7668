"""importer.import_transcript: one JSONL transcript becomes a new session, or nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from molt_desktop.importer import TranscriptImportError, import_transcript
from molt_desktop.paths import sessions_dir
from molt_desktop.sessions.store import SessionStore

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "state-2026.1.29"
TRANSCRIPT = FIXTURE / "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl"


def test_imports_under_a_new_session_id(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = SessionStore(state)
    store.update("agent:main:existing", {"label": "Already here"})
    result = import_transcript(TRANSCRIPT, state)
    assert result.key.startswith("agent:main:imported-") and len(result.key) == len("agent:main:imported-") + 8
    assert result.messages == 2 and result.entries == 6
    assert result.path == sessions_dir(state) / f"{result.session_id}.jsonl"
    original = TRANSCRIPT.read_bytes().splitlines()
    copied = result.path.read_bytes().splitlines()
    header = json.loads(copied[0])
    assert header["id"] == result.session_id != json.loads(original[0])["id"]
    assert header["cwd"] == json.loads(original[0])["cwd"]
    assert copied[1:] == original[1:]  # every other line byte for byte
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"
    # the running store (another instance, as the gateway's) sees it; nothing else changed
    entries = store.entries()
    assert entries[result.key]["sessionId"] == result.session_id
    assert entries["agent:main:existing"]["label"] == "Already here"
    history = store.history(result.key)
    assert [m["role"] for m in history.messages] == ["user", "assistant"]
    assert history.messages[0]["content"][0]["text"] == "Say hello"
    store.close()


@pytest.mark.parametrize(("content", "reason", "line"), [
    (b"", "empty", 0),
    (b"\n\n", "empty", 0),
    (b'{"type":"message","id":"a"}\n', "no_header", 1),
    (b'{"type":"session","version":3,"id":"s"}\nnot json\n', "bad_line", 2),
    (b'{"type":"session","version":3,"id":"s"}\n[1, 2]\n', "bad_line", 2),
    (b'{"type":"session","version":3,"id":"s"}\n{"type":"mess', "torn", 2),
    (b'{"type":"session","version":3,"id":"s"}\n\xff\xfe\n', "not_utf8", 0),
])
def test_a_bad_file_imports_nothing(tmp_path: Path, content: bytes, reason: str, line: int) -> None:
    state = tmp_path / "state"
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    with pytest.raises(TranscriptImportError) as caught:
        import_transcript(source, state)
    assert caught.value.reason == reason and caught.value.line == line
    assert "in.jsonl" in str(caught.value)
    assert not sessions_dir(state).exists()


def test_a_last_line_without_newline_is_fine_when_complete(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(TRANSCRIPT.read_bytes().rstrip(b"\n"))
    result = import_transcript(source, tmp_path / "state")
    assert result.path.read_bytes().endswith(b"}\n") and result.messages == 2


def test_unreadable_source(tmp_path: Path) -> None:
    with pytest.raises(TranscriptImportError) as caught:
        import_transcript(tmp_path / "missing.jsonl", tmp_path / "state")
    assert caught.value.reason == "unreadable"


def test_a_failed_session_list_write_removes_the_copy(tmp_path: Path) -> None:
    state = tmp_path / "state"
    folder = sessions_dir(state)
    folder.mkdir(parents=True)
    (folder / "sessions.json").mkdir()  # cannot be replaced by a file
    with pytest.raises(OSError):
        import_transcript(TRANSCRIPT, state)
    assert [p.name for p in folder.iterdir()] == ["sessions.json"]
