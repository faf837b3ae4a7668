"""The session list on a real embedded gateway: order, titles, search, rename, pin, delete, live
updates, and a screenshot. Export and import are in test_session_files.py."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from molt_desktop.client.connection import GatewayUnreachable
from molt_desktop.paths import sessions_dir
from molt_desktop.ui.session_list import SessionListWidget
from molt_desktop.ui.session_rows import relative_time
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until


async def chat(desktop: Desktop, key: str, message: str) -> dict[str, Any]:
    """One finished chat turn in session `key` (sent over the bridge, as the chat window does)."""
    run_id = str(uuid.uuid4())
    final = wait_signal(desktop.bridge.chatEvent, timeout=20,
                        check=lambda p: p.get("runId") == run_id and p.get("state") in ("final", "error"))
    await desktop.bridge.call("chat.send", {"sessionKey": key, "message": message, "idempotencyKey": run_id})
    (payload,) = await final
    assert payload["state"] == "final", payload
    return payload


async def make_list(desktop: Desktop, qtbot: Any, count: int | None = None) -> SessionListWidget:
    widget = SessionListWidget(desktop.bridge, desktop.actions)
    qtbot.addWidget(widget)
    widget.resize(300, 480)
    widget.show()
    if count is not None:
        await wait_until(lambda: len(widget.rows()) == count, what=f"{count} rows")
    return widget


def keys(widget: SessionListWidget) -> list[str]:
    return [r["key"] for r in widget.rows()]


def titles(widget: SessionListWidget) -> list[str]:
    return [widget.list.item(i).text() for i in range(widget.list.count())]


async def listed(desktop: Desktop, key: str) -> dict[str, Any] | None:
    listing = await desktop.bridge.call("sessions.list", {})
    return next((r for r in listing["sessions"] if r["key"] == key), None)


A, B, C = "agent:main:desktop-aaaa0001", "agent:main:desktop-bbbb0002", "agent:main:desktop-cccc0003"


async def three_sessions(desktop: Desktop) -> None:
    await chat(desktop, A, "Plan the vegetable garden")
    await chat(desktop, B, "写一首关于长城的诗")
    await chat(desktop, C, "Summarise the meeting notes")


async def test_newest_first_with_titles_and_times(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    assert keys(widget) == [C, B, A]
    await wait_until(lambda: titles(widget) == ["Summarise the meeting notes", "写一首关于长城的诗",
                                                "Plan the vegetable garden"], what="derived titles")
    assert relative_time(widget.rows()[0]["updatedAt"]) == "just now"
    now = time.time()
    assert relative_time((now - 5 * 60) * 1000, now) == "5 min ago"
    assert relative_time((now - 3 * 3600) * 1000, now) == "3 h ago"
    assert relative_time((now - 30 * 3600) * 1000, now) == "yesterday"
    assert relative_time((now - 4 * 86400) * 1000, now) == "4 days ago"
    # activating a row asks the chat window to open it; select() (the window's own call) does not
    activated: list[str] = []
    widget.sessionActivated.connect(activated.append)
    widget.select(B)
    assert widget.current_key() == B and activated == []
    last = widget.list.item(2)
    qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.list.visualItemRect(last).center())
    assert activated == [A] and widget.current_key() == A
    clicked: list[bool] = []
    desktop.actions.newChat.connect(lambda: clicked.append(True))
    qtbot.mouseClick(widget.new_button, Qt.MouseButton.LeftButton)
    assert clicked == [True]


async def test_rename_with_f2_persists(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    widget.select(B)
    qtbot.keyClick(widget.list, Qt.Key.Key_F2)
    editor = await wait_until(lambda: widget.list.viewport().findChild(QLineEdit), what="the rename editor")
    editor.setText("长城诗 (final)")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    await wait_until(lambda: widget.row(B) and widget.row(B).get("label") == "长城诗 (final)", what="label")
    assert (await listed(desktop, B))["label"] == "长城诗 (final)"
    assert "长城诗 (final)" in titles(widget)
    assert widget.current_key() == B  # renaming moves the row (sessions.patch bumps updatedAt), not the selection

    # a label the gateway refuses: a readable message, the old title stays
    assert await widget.rename(B, "x" * 600) is False
    assert "rejected" in widget.notice_text() and "label" in widget.notice_text()
    assert widget.list.item(keys(widget).index(B)).text() == "长城诗 (final)"
    # an empty label clears it: the first message is the title again
    assert await widget.rename(B, "") is True
    assert "label" not in (await listed(desktop, B))
    await wait_until(lambda: "写一首关于长城的诗" in titles(widget), what="derived title back")


async def test_search_by_message_words_in_english_and_chinese(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    await chat(desktop, A, "Also the zucchini bed needs water")  # a word only in a later message
    widget = await make_list(desktop, qtbot, 3)
    qtbot.keyClicks(widget.search, "zucchini")
    await wait_until(lambda: keys(widget) == [A], what="search hit for zucchini")
    widget.search.setText("长城")
    await wait_until(lambda: keys(widget) == [B], what="search hit for 长城")
    assert titles(widget) == ["写一首关于长城的诗"]
    widget.search.setText("nothing-like-this")
    await wait_until(lambda: widget.list.count() == 0 and widget.empty.isVisibleTo(widget), what="no hits")
    assert "nothing-like-this" in widget.empty.text()
    widget.search.clear()
    await wait_until(lambda: keys(widget) == [A, C, B], what="the full list again")


async def test_delete_asks_and_archives_the_transcript(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    folder = sessions_dir(desktop.state)
    session_id = widget.row(B)["sessionId"]
    asked: list[list[str]] = []
    answer = [False]

    async def confirm(rows: list[dict[str, Any]]) -> bool:
        asked.append([r["key"] for r in rows])
        return answer[0]

    widget.confirm_delete = confirm  # type: ignore[method-assign]
    widget.select(B)
    menu = [a.text() for a in widget.files.build_context_menu([B]).actions()]
    assert menu[:3] == ["Rename", "Pin to top", "Export…"] and menu[-1] == "Delete…"
    qtbot.keyClick(widget.list, Qt.Key.Key_Delete)
    await wait_until(lambda: asked, what="the confirmation")
    assert asked == [[B]] and keys(widget) == [C, B, A]
    assert (folder / f"{session_id}.jsonl").exists()
    assert await listed(desktop, B) is not None

    answer[0] = True
    deleted = wait_signal(widget.sessionDeleted)
    qtbot.keyClick(widget.list, Qt.Key.Key_Delete)
    assert await deleted == (B,)
    assert keys(widget) == [C, A]
    assert await listed(desktop, B) is None
    assert not (folder / f"{session_id}.jsonl").exists()
    archived = list(folder.glob(f"{session_id}.jsonl.deleted.*"))
    assert len(archived) == 1 and "写一首关于长城的诗" in archived[0].read_text(encoding="utf-8")


async def test_main_session_is_not_deleted(desktop: Desktop, qtbot: Any) -> None:
    await chat(desktop, "agent:main:main", "hello main")
    widget = await make_list(desktop, qtbot, 1)

    async def confirm(rows: list[dict[str, Any]]) -> bool:
        raise AssertionError("no confirmation for the main session")

    widget.confirm_delete = confirm  # type: ignore[method-assign]
    texts = [a.text() for a in widget.files.build_context_menu(["agent:main:main"]).actions()]
    assert "Rename" in texts and "Delete…" not in texts
    assert await widget.delete(["agent:main:main"]) == []
    assert "main session cannot be deleted" in widget.notice_text()
    assert keys(widget) == ["agent:main:main"]
    assert await listed(desktop, "agent:main:main") is not None


async def test_pin_keeps_a_session_on_top(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    widget.select(A)
    widget.menu_actions["pin"].trigger()
    await wait_until(lambda: keys(widget)[0] == A and widget.row(A).get("pinned"), what="A pinned on top")
    assert (await listed(desktop, A))["pinned"] is True
    await chat(desktop, B, "one more line about the Great Wall")  # B is now the newest
    await wait_until(lambda: keys(widget) == [A, B, C], what="pinned first, then newest first")
    fresh = await make_list(desktop, qtbot, 3)  # the pin is stored by the gateway, not the widget
    assert keys(fresh) == [A, B, C]
    assert await widget.set_pinned([A], False)
    assert "pinned" not in (await listed(desktop, A))
    await chat(desktop, C, "and the action items")
    # newest first again (the unpin itself made A newer than B: sessions.patch bumps updatedAt)
    await wait_until(lambda: keys(widget) == [C, A, B], what="unpinned: newest first")


async def test_live_updates_keep_selection(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    widget = await make_list(desktop, qtbot, 3)
    widget.select(B)
    calls: list[str] = []
    real_call = desktop.bridge.call

    async def counting(method: str, params: Any = None, **kw: Any) -> Any:
        calls.append(method)
        return await real_call(method, params, **kw)

    desktop.bridge.call = counting  # type: ignore[method-assign]
    try:
        await chat(desktop, A, "water the tomatoes too")
        await wait_until(lambda: keys(widget) == [A, C, B], what="A moved up after its turn")
        assert widget.current_key() == B and [i.data(Qt.ItemDataRole.UserRole)
                                              for i in widget.list.selectedItems()] == [B]
        before = len(calls)
        new = "agent:main:desktop-dddd0004"
        await chat(desktop, new, "A brand new conversation")
        await wait_until(lambda: keys(widget)[:1] == [new], what="the new session listed")
        await wait_until(lambda: titles(widget)[0] == "A brand new conversation", what="its title")
        assert widget.current_key() == B
        # the user message, the run end and the final event of the turn arrive in a burst: a
        # couple of list calls, not one per event
        assert calls[before:].count("sessions.list") <= 4, calls[before:]
    finally:
        desktop.bridge.call = real_call  # type: ignore[method-assign]


async def test_screenshot_with_chinese_titles(desktop: Desktop, qtbot: Any) -> None:
    await three_sessions(desktop)
    await chat(desktop, "agent:main:desktop-eeee0005", "日本語の会話：東京の天気を教えて")
    widget = await make_list(desktop, qtbot, 4)
    await widget.rename(C, "周会纪要 · Weekly notes")
    await widget.set_pinned([A], True)
    await wait_until(lambda: titles(widget)[0] == "Plan the vegetable garden", what="pinned first")
    widget.select(B)
    path: Path = save_screenshot(widget, "session-list")
    assert path.stat().st_size > 2000


async def test_a_failed_load_offers_retry(desktop: Desktop, qtbot: Any) -> None:
    await chat(desktop, A, "Plan the vegetable garden")
    real_call = desktop.bridge.call

    async def down(method: str, params: Any = None, **kw: Any) -> Any:
        raise GatewayUnreachable("connection refused")

    desktop.bridge.call = down  # type: ignore[method-assign]
    try:
        widget = await make_list(desktop, qtbot)
        await wait_until(widget.notice_text, what="the error notice")
        assert "not reachable" in widget.notice_text()
        assert widget.notice.action.isVisibleTo(widget) and widget.notice.action.text() == "Retry"
    finally:
        desktop.bridge.call = real_call  # type: ignore[method-assign]
    qtbot.mouseClick(widget.notice.action, Qt.MouseButton.LeftButton)
    await wait_until(lambda: keys(widget) == [A], what="the list after Retry")
    assert widget.notice_text() == ""
