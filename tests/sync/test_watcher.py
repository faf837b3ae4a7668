"""SessionWatcher on real folders: a change is reported once after the files go quiet, agents that appear
later are watched too, a steady stream of writes is still reported, and temp files do not count."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePath

from molt_desktop.sync.watcher import SessionWatcher, is_session_change
from tests.sync.helpers import until


def test_what_counts_as_a_session_change() -> None:
    assert is_session_change(PurePath("main/sessions/abc.jsonl"))
    assert is_session_change(PurePath("main/sessions/sessions.json"))
    assert is_session_change(PurePath("main/sessions/abc.jsonl.deleted.2026-01-01T00-00-00Z"))
    assert not is_session_change(PurePath("main/sessions/.sessions.json.tmp-1a2b"))
    assert not is_session_change(PurePath("main/sessions/sessions.json.tmp"))
    assert not is_session_change(PurePath("main/sessions/x.jsonl.lock"))
    assert not is_session_change(PurePath("main/agent/models.json"))
    assert not is_session_change(PurePath("main"))


async def test_a_burst_of_writes_is_reported_once_after_it_goes_quiet(tmp_path: Path) -> None:
    sessions = tmp_path / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    calls: list[float] = []
    watcher = SessionWatcher(tmp_path, lambda: calls.append(asyncio.get_running_loop().time()), quiet=0.3,
                             max_delay=30.0)
    await watcher.start()
    try:
        transcript = sessions / "s1.jsonl"
        for index in range(5):
            with transcript.open("a", encoding="utf-8") as fh:
                fh.write(f'{{"n": {index}}}\n')
        await until(lambda: calls, 10, "the change to be reported")
        # More changes after the report start a new round.
        (sessions / "sessions.json").write_text("{}", encoding="utf-8")
        await until(lambda: len(calls) >= 2, 10, "the second change to be reported")
    finally:
        await watcher.stop()
    assert not watcher.running


async def test_an_agent_created_later_is_watched(tmp_path: Path) -> None:
    calls: list[int] = []
    watcher = SessionWatcher(tmp_path, lambda: calls.append(1), quiet=0.2)
    await watcher.start()  # no agents folder yet: the watcher makes it
    try:
        assert (tmp_path / "agents").is_dir()
        sessions = tmp_path / "agents" / "helper" / "sessions"
        sessions.mkdir(parents=True)
        await until(lambda: calls, 10, "the new folders to be reported")
        before = len(calls)
        (sessions / "t.jsonl").write_text('{"type":"session"}\n', encoding="utf-8")
        await until(lambda: len(calls) > before, 10, "a write in the new agent's sessions to be reported")
    finally:
        await watcher.stop()


async def test_a_steady_stream_of_writes_is_still_reported(tmp_path: Path) -> None:
    sessions = tmp_path / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    calls: list[int] = []
    # The files never go quiet for 60 s here: only max_delay can report the change.
    watcher = SessionWatcher(tmp_path, lambda: calls.append(1), quiet=60.0, max_delay=0.5)
    await watcher.start()
    try:
        deadline = asyncio.get_running_loop().time() + 20
        with (sessions / "busy.jsonl").open("a", encoding="utf-8") as fh:
            while not calls:
                assert asyncio.get_running_loop().time() < deadline, "a steady stream was never reported"
                fh.write("x\n")
                fh.flush()
                await asyncio.sleep(0.05)
    finally:
        await watcher.stop()


async def test_temp_files_alone_are_not_reported(tmp_path: Path) -> None:
    sessions = tmp_path / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    calls: list[str] = []
    watcher = SessionWatcher(tmp_path, lambda: calls.append("x"), quiet=0.2)
    await watcher.start()
    try:
        (sessions / ".sessions.json.tmp-ab12").write_text("{}", encoding="utf-8")
        (sessions / ".sessions.json.tmp-ab12").unlink()
        # A real change afterwards is reported; the temp file before it did not start a round of its own.
        (sessions / "real.jsonl").write_text("{}\n", encoding="utf-8")
        await until(lambda: calls, 10, "the real change to be reported")
    finally:
        await watcher.stop()
    assert calls == ["x"]
