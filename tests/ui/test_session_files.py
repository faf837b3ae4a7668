"""Export (Markdown, JSON, JSONL transcript; one session or many) and import (a JSONL transcript,
a real OpenClaw 2026.1.29 state dir) from the session list, on a real embedded gateway."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from molt_desktop.paths import sessions_dir
from molt_desktop.ui.session_export import file_name
from molt_desktop.ui.session_list import SessionListWidget
from tests.ui.conftest import Desktop, wait_until
from tests.ui.test_session_list import A, B, C, chat, keys, make_list, three_sessions

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "state-2026.1.29"


def dialogs(widget: SessionListWidget, *, file: Path | None = None, folder: Path | None = None) -> list[Any]:
    """Replace the file dialogs; returns the list of what was asked."""
    asked: list[Any] = []

    async def save(suggested: str, fmt: str) -> Path | None:
        asked.append(("save", suggested, fmt))
        return file

    async def pick_folder(title: str) -> Path | None:
        asked.append(("folder", title))
        return folder

    widget.files.ask_save_file = save  # type: ignore[method-assign]
    widget.files.ask_folder = pick_folder  # type: ignore[method-assign]
    return asked


def conversation(history: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(m["role"], m["content"]) for m in history["messages"]]


async def test_export_one_session_in_three_formats(desktop: Desktop, qtbot: Any, tmp_path: Path) -> None:
    await three_sessions(desktop)
    await chat(desktop, B, "第二段：加上关于长城的历史")
    widget = await make_list(desktop, qtbot, 3)
    await widget.rename(B, "长城诗")
    history = await desktop.bridge.call("chat.history", {"sessionKey": B})

    md = tmp_path / "poem.md"
    asked = dialogs(widget, file=md)
    assert await widget.files.export([B], "markdown") == [md]
    assert asked == [("save", file_name(widget.row(B), "markdown"), "markdown")]
    assert asked[0][1].startswith("长城诗 - ") and asked[0][1].endswith(".md")
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# 长城诗\n")
    assert f"`{B}`" in text
    assert text.count("## You · ") == 2 and text.count("## Assistant · ") == 2
    assert "写一首关于长城的诗" in text and "第二段：加上关于长城的历史" in text
    assert "Hello from the fake model" in text
    assert text.index("写一首关于长城的诗") < text.index("第二段")
    assert str(md) in widget.notice_text()

    js = tmp_path / "poem.json"
    dialogs(widget, file=js)
    assert await widget.files.export([B], "json") == [js]
    assert json.loads(js.read_text(encoding="utf-8")) == history

    jsonl = tmp_path / "poem.jsonl"
    dialogs(widget, file=jsonl)
    assert await widget.files.export([B], "jsonl") == [jsonl]
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["version"] == 3 and lines[0]["id"] == history["sessionId"]
    entries = lines[1:]
    messages = [e for e in entries if e["type"] == "message"]
    assert [e["message"] for e in messages] == history["messages"]
    assert entries[0]["type"] == "model_change" and entries[0]["parentId"] is None
    for before, after in zip(entries, entries[1:]):
        assert after["parentId"] == before["id"]
    assert len({e["id"] for e in entries}) == len(entries)
    assert all(len(e["id"]) == 8 and e["timestamp"].endswith("Z") for e in entries)

    # the transcript imports back as a new session with the same conversation
    imported = await widget.files.import_transcript(jsonl)
    assert imported and imported.startswith("agent:main:imported-") and imported != B
    await wait_until(lambda: imported in keys(widget), what="the imported session listed")
    assert widget.current_key() == imported
    again = await desktop.bridge.call("chat.history", {"sessionKey": imported})
    assert conversation(again) == conversation(history)
    assert again["sessionId"] != history["sessionId"]
    assert widget.notice_text() == "Imported poem.jsonl as a new session."
    # and it is a session like any other: search finds it, a new turn appends to it
    hits = await desktop.bridge.call("sessions.list", {"search": "第二段"})
    assert {r["key"] for r in hits["sessions"]} == {B, imported}
    await chat(desktop, imported, "continue the imported chat")
    after = await desktop.bridge.call("chat.history", {"sessionKey": imported})
    assert len(after["messages"]) == len(history["messages"]) + 2

    # cancelling the dialog writes nothing
    dialogs(widget, file=None)
    assert await widget.files.export([B], "markdown") == []


async def test_export_many_one_file_each(desktop: Desktop, qtbot: Any, tmp_path: Path) -> None:
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    await wait_until(lambda: widget.row(A).get("derivedTitle"), what="titles")
    widget.list.selectAll()
    assert widget.selected_keys() == [C, B, A]
    asked = dialogs(widget, folder=tmp_path)
    for fmt in ("markdown", "json", "jsonl"):
        written = await widget.files.export(widget.selected_keys(), fmt)
        assert len(written) == 3 and all(p.parent == tmp_path for p in written)
    assert [a[0] for a in asked] == ["folder"] * 3
    assert "3 sessions" in widget.notice_text()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 9
    assert "写一首关于长城的诗 - bbbb0002.md" in names
    assert "Plan the vegetable garden - aaaa0001.jsonl" in names
    md = (tmp_path / "Summarise the meeting notes - cccc0003.md").read_text(encoding="utf-8")
    assert md.startswith("# Summarise the meeting notes") and "Summarise the meeting notes" in md.split("## You")[1]
    js = json.loads((tmp_path / "写一首关于长城的诗 - bbbb0002.json").read_text(encoding="utf-8"))
    assert js["sessionKey"] == B and js["messages"][0]["content"][0]["text"] == "写一首关于长城的诗"
    # exporting again never replaces the earlier files
    written = await widget.files.export([A, B], "markdown")
    assert sorted(p.name for p in written) == ["Plan the vegetable garden - aaaa0001 (2).md",
                                               "写一首关于长城的诗 - bbbb0002 (2).md"]
    assert len(list(tmp_path.iterdir())) == 11


async def test_export_failure_is_reported(desktop: Desktop, qtbot: Any, tmp_path: Path) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    await wait_until(lambda: widget.row(A).get("derivedTitle"), what="titles")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    dialogs(widget, folder=blocked)
    assert await widget.files.export([A, B], "markdown") == []
    notice = widget.notice_text()
    assert "was not exported" in notice and "Plan the vegetable garden" in notice and str(blocked) in notice
    assert blocked.read_text(encoding="utf-8") == "a file where the folder should be"


async def test_import_a_bad_transcript_imports_nothing(desktop: Desktop, qtbot: Any, tmp_path: Path) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    folder = sessions_dir(desktop.state)
    before = sorted(p.name for p in folder.iterdir())
    good = (FIXTURE / "1a6474cd-bd4b-4b40-b4ad-e2807c24a8be.jsonl").read_bytes()
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(good + b'{"type":"message","id":"abc')
    assert await widget.files.import_transcript(torn) is None
    assert "unfinished line" in widget.notice_text() and "Nothing was imported" in widget.notice_text()
    headless = tmp_path / "headless.jsonl"
    headless.write_bytes(b"\n".join(good.splitlines()[1:]) + b"\n")
    assert await widget.files.import_transcript(headless) is None
    assert "not an OpenClaw transcript" in widget.notice_text()
    broken = tmp_path / "broken.jsonl"
    lines = good.splitlines()
    broken.write_bytes(b"\n".join([*lines[:2], b"{oops", *lines[2:]]) + b"\n")
    assert await widget.files.import_transcript(broken) is None
    assert "Line 3 of broken.jsonl" in widget.notice_text()
    missing = await widget.files.import_transcript(tmp_path / "nowhere.jsonl")
    assert missing is None and "could not be read" in widget.notice_text()
    assert sorted(p.name for p in folder.iterdir()) == before
    await widget.refresh()
    assert len(widget.rows()) == 3


async def test_import_an_openclaw_state_dir(desktop: Desktop, qtbot: Any, tmp_path: Path) -> None:
    await chat(desktop, A, "Plan the vegetable garden")
    widget = await make_list(desktop, qtbot, 1)
    source = tmp_path / ".openclaw"
    agent = source / "agents" / "main" / "sessions"
    agent.mkdir(parents=True)
    shutil.copy(FIXTURE / "openclaw.json", source / "openclaw.json")
    for item in FIXTURE.iterdir():
        if item.name != "openclaw.json":
            shutil.copy(item, agent / item.name)

    async def pick() -> Path:
        return source

    widget.files.ask_state_dir = pick  # type: ignore[method-assign]
    assert await widget.files.import_state_dir() == 2
    await wait_until(lambda: len(widget.rows()) == 3, what="the imported sessions listed")
    assert set(keys(widget)) == {A, "agent:main:desktop-probe", "agent:main:agentprobe"}
    assert "Imported 2 sessions" in widget.notice_text()
    await wait_until(lambda: widget.row("agent:main:agentprobe").get("derivedTitle") == "Say hi",
                     what="the first message as title")
    assert widget.list.item(keys(widget).index("agent:main:desktop-probe")).text() == "Desktop probe"
    history = await desktop.bridge.call("chat.history", {"sessionKey": "agent:main:agentprobe"})
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    # a second import adds nothing and says so
    assert await widget.files.import_state_dir(source) == 0
    assert "already here" in widget.notice_text()
    # not a state dir: a readable error
    assert await widget.files.import_state_dir(tmp_path) is None
    assert "could not be imported" in widget.notice_text() and "agents/" in widget.notice_text()
