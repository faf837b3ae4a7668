"""The chat window against the real embedded gateway and the fake model server.

Typing and Enter, a streamed reply, Stop, the model picker, errors with their next step, Retry,
pasted images reaching the model, Shift+Enter and input-method composition, history and copy,
and the two screenshots (a highlighted code block; a Chinese conversation).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QGuiApplication, QImage, QInputMethodEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from molt_desktop.ui.chat_messages import MessageWidget
from molt_desktop.ui.chat_window import ChatWindow
from tests.ui.conftest import Desktop, save_screenshot, wait_signal, wait_until

CODE_REPLY = """Here is a small helper that reads a JSON file **safely**:

```python
import json
from pathlib import Path


def load_settings(path: Path) -> dict:
    \"\"\"Read the settings, or an empty dict when the file is missing.\"\"\"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}  # first start: nothing saved yet
```

Call it with `load_settings(Path("settings.json"))`.
"""

CHINESE_REPLY = """## 你好！

这是一个**流式**回复，用来检查中文字符能否正常显示。

- 第一点：支持 Markdown 列表
- 第二点：代码块也可以高亮

日本語も表示できます：こんにちは、世界。
"""


@pytest.fixture
async def window(desktop: Desktop, qtbot: QtBot) -> AsyncIterator[ChatWindow]:
    # Not qtbot.addWidget(): qtbot closes its widgets before async fixtures end, and the
    # window's last gateway calls must finish while it still exists.
    chat = ChatWindow(desktop.bridge, desktop.actions)
    chat.resize(1000, 700)
    chat.show()
    opened = await expect(chat.sessionOpened)
    chat.new_chat()
    await opened
    await settled(chat)
    yield chat
    await settled(chat)
    chat.close()
    chat.deleteLater()
    await asyncio.sleep(0)


async def expect(signal: Any) -> asyncio.Future[tuple[Any, ...]]:
    """Start listening for `signal` now (wait_signal connects only once awaited)."""
    task = asyncio.ensure_future(wait_signal(signal))
    await asyncio.sleep(0)
    return task


async def settled(window: ChatWindow) -> None:
    """No gateway call of the window is under way (pytest-qt processes Qt events between test
    phases, outside the asyncio loop: nothing may be left running then)."""
    await wait_until(lambda: not window.bridge._tasks and not window._info_timer.isActive(),
                     what=f"the window's calls to finish: {window.bridge._tasks} {window._info_timer.isActive()}")
    await drawn(window)


async def drawn(window: ChatWindow) -> None:
    """Every message shows all its text (long replies are drawn over a few turns of the loop)."""
    await wait_until(lambda: not any(m.body.pending() for m in window.conversation.messages()),
                     what="the replies to be drawn")


async def listed(window: ChatWindow) -> None:
    """The sidebar's session list shows the open session, selected."""
    sessions = window.session_list
    assert sessions is not None
    await wait_until(lambda: any(r.get("key") == window.current_key for r in sessions.rows()),
                     what="the session in the list")
    sessions.select(window.current_key)
    assert sessions.current_key() == window.current_key
    await settled(window)


def replies(window: ChatWindow) -> list[MessageWidget]:
    return [m for m in window.conversation.messages() if m.role == "assistant"]


def users(window: ChatWindow) -> list[MessageWidget]:
    return [m for m in window.conversation.messages() if m.role == "user"]


async def type_and_send(qtbot: QtBot, window: ChatWindow, text: str) -> None:
    window.input.setFocus()
    qtbot.keyClicks(window.input, text)
    qtbot.keyClick(window.input, Qt.Key.Key_Return)


async def session_row(desktop: Desktop, key: str) -> dict[str, Any] | None:
    result = await desktop.bridge.call("sessions.list", {})
    return next((r for r in result["sessions"] if r["key"] == key), None)


def last_user_content(desktop: Desktop) -> str:
    body = desktop.fake.requests[-1].body
    return json.dumps(body["messages"][-1], ensure_ascii=False)


async def test_enter_sends_and_the_reply_streams(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.chunks = 25
    desktop.fake.behavior.delay = 0.03
    seen: list[int] = []
    desktop.bridge.chatEvent.connect(
        lambda p: seen.append(replies(window)[-1].body.length()) if p.get("state") == "delta" and replies(window)
        else None)
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "Hello there")
    assert [m.markdown() for m in users(window)] == ["Hello there"]
    assert window.input.text() == ""
    assert window.stop_button.isVisible() and not window.send_button.isVisible()
    _run_id, state = await finished
    assert state == "final"
    full = desktop.fake.behavior.full_text()
    assert len(seen) > 3 and 0 < seen[0] < len(full), "the reply should show up piece by piece"
    reply = replies(window)[-1]
    assert reply.markdown() == full and not reply.streaming
    assert "fake/fake-1" in reply.meta_label.text()
    assert not window.stop_button.isVisible() and window.send_button.isVisible()
    assert "Hello there" in last_user_content(desktop)
    # Usage of the session comes from sessions.list once the turn is stored.
    await wait_until(lambda: not window.usage_label.text().startswith("0 "), what="usage")
    row = await session_row(desktop, window.current_key or "")
    assert row is not None
    assert f"{row['inputTokens'] + row['outputTokens']:,}" in window.usage_label.text().replace("\u00a0", ",")
    assert window.title_label.text() == "Hello there"
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_a_message_sent_before_the_history_arrives_is_kept(desktop: Desktop, window: ChatWindow) -> None:
    finished = await expect(window.replyFinished)
    window.new_chat()
    window.input.setPlainText("quick first message")
    window.send()  # the new session's history is still on its way
    assert window.input.text() == ""
    assert (await finished)[1] == "final"
    assert [m.markdown() for m in users(window)] == ["quick first message"]
    assert replies(window)[-1].markdown() == desktop.fake.behavior.full_text()
    assert "quick first message" in last_user_content(desktop)
    await settled(window)


async def test_shift_enter_and_input_method_composition(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    box = window.input
    box.setFocus()
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.text() == "line one\nline two"
    assert users(window) == []
    box.clear()

    # Pinyin being composed: Enter belongs to the input method, nothing is sent.
    QApplication.sendEvent(box, QInputMethodEvent("zhongwen", []))
    assert box.composing
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert users(window) == [] and desktop.fake.requests == []
    commit = QInputMethodEvent()
    commit.setCommitString("中文")
    QApplication.sendEvent(box, commit)
    assert not box.composing and box.text() == "中文"
    finished = await expect(window.replyFinished)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert [m.markdown() for m in users(window)] == ["中文"]
    assert (await finished)[1] == "final"
    assert "中文" in last_user_content(desktop)
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_stop_a_streaming_reply(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.chunks = 200
    desktop.fake.behavior.delay = 0.05
    await type_and_send(qtbot, window, "Tell me a long story")
    await wait_until(lambda: replies(window) and replies(window)[-1].body.length() > 0, what="first text")
    finished = await expect(window.replyFinished)
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert (await finished)[1] == "aborted"
    reply = replies(window)[-1]
    assert reply.stopped and reply.status_label.isVisible() and reply.status_label.text() == "Stopped"
    assert 0 < reply.body.length() < len(desktop.fake.behavior.full_text())
    assert not window.stop_button.isVisible() and window.send_button.isVisible()
    await wait_until(lambda: desktop.fake.requests[-1].disconnected or desktop.fake.requests[-1].done_at,
                     what="the model request to end")
    assert desktop.fake.requests[-1].chunks < 200
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_model_picker_patches_the_session(desktop: Desktop, window: ChatWindow) -> None:
    config = await desktop.bridge.call("config.get", {})
    two = [{"id": "fake-1", "name": "Fake", "contextWindow": 32000, "maxTokens": 2048, "input": ["text", "image"]},
           {"id": "fake-2", "name": "Fake Two", "contextWindow": 32000, "maxTokens": 2048, "input": ["text"]}]
    changed = await expect(desktop.bridge.configChanged)
    await desktop.bridge.call("config.patch", {"raw": json.dumps({"models": {"providers": {"fake": {"models": two}}}}),
                                               "baseHash": config["hash"]})
    await changed
    picker = window.model_picker
    index = await wait_until(lambda: picker.findData("fake/fake-2") + 1, what="fake-2 in the picker") - 1
    assert picker.currentData() == "fake/fake-1"
    picker.setCurrentIndex(index)
    picker.activated.emit(index)  # what a click on the item does
    key = window.current_key or ""

    async def chosen() -> bool:
        row = await session_row(desktop, key)
        return bool(row and row.get("modelOverride") == "fake-2" and row.get("providerOverride") == "fake")

    for _ in range(200):
        if await chosen():
            break
    assert await chosen(), "sessions.list should report the model picked for the session"
    await wait_until(lambda: picker.currentData() == "fake/fake-2", what="the picker to keep the choice")
    # The pick is what answers next.
    finished = await expect(window.replyFinished)
    window.input.setPlainText("which model are you?")
    window.send()
    assert (await finished)[1] == "final"
    assert desktop.fake.requests[-1].model == "fake-2"
    await wait_until(lambda: picker.currentData() == "fake/fake-2", what="the picker after the reply")
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_auth_error_offers_settings(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.fail_status = 401
    desktop.fake.behavior.fail_times = -1
    asked: list[str] = []
    desktop.actions.openSettings.connect(asked.append)
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "Hi")
    assert (await finished)[1] == "error"
    cards = window.conversation.errors()
    assert len(cards) == 1 and cards[0].next_step == "settings"
    assert "Open Settings" in cards[0].message_label.text()
    assert cards[0].action_button.objectName() == "settingsButton" and cards[0].action_button.text() == "Open Settings"
    assert replies(window) == []  # no empty reply bubble stays behind
    qtbot.mouseClick(cards[0].action_button, Qt.MouseButton.LeftButton)
    assert asked == ["providers"]
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_rate_limit_error_then_retry(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.fail_status = 429
    desktop.fake.behavior.fail_times = -1
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "Please answer")
    assert (await finished)[1] == "error"
    [card] = window.conversation.errors()
    assert card.next_step == "retry" and "rate limit" in card.message_label.text()
    assert card.action_button.text() == "Retry"
    desktop.fake.behavior.fail_times = 0
    sent_before = len(desktop.fake.requests)
    finished = await expect(window.replyFinished)
    qtbot.mouseClick(card.action_button, Qt.MouseButton.LeftButton)
    assert (await finished)[1] == "final"
    assert window.conversation.errors() == []
    assert [m.markdown() for m in users(window)] == ["Please answer"]  # resent, not typed again
    assert replies(window)[-1].markdown() == desktop.fake.behavior.full_text()
    assert len(desktop.fake.requests) > sent_before and "Please answer" in last_user_content(desktop)
    await settled(window)  # nothing may run while pytest-qt processes events


def red_square() -> QImage:
    image = QImage(32, 24, QImage.Format.Format_RGB32)
    image.fill(QColor("#d1242f"))
    return image


async def test_pasted_image_reaches_the_model(desktop: Desktop, window: ChatWindow, qtbot: QtBot,
                                              tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setImageData(red_square())
    QGuiApplication.clipboard().setMimeData(mime)
    window.input.setFocus()
    window.input.paste()
    assert window.input.text() == ""  # attached, not pasted as text
    assert len(window.attachments.chips()) == 1 and window.attachments.isVisible()

    # A dropped image file is attached too; a chip can be removed again.
    path = tmp_path / "photo.png"
    assert red_square().save(str(path))
    dropped = QMimeData()
    dropped.setUrls([QUrl.fromLocalFile(str(path))])
    window.input.insertFromMimeData(dropped)
    chips = window.attachments.chips()
    assert [c.attachment.name for c in chips] == ["pasted-image.png", "photo.png"]
    qtbot.mouseClick(chips[1].remove_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: len(window.attachments.chips()) == 1, what="the chip to go")

    sent = window.attachments.attachments()[0]
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "What colour is this?")
    assert (await finished)[1] == "final"
    assert window.attachments.chips() == [] and not window.attachments.isVisible()
    content = last_user_content(desktop)
    encoded = base64.b64encode(sent.data).decode()
    assert encoded in content and "What colour is this?" in content
    received = QImage.fromData(base64.b64decode(encoded))
    assert (received.width(), received.height()) == (32, 24)
    assert users(window)[-1].images.count() == 2  # the thumbnail and the stretch
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_history_copy_and_routing(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.text = "Reply with `code` and **bold**."
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "First question")
    await finished
    key = window.current_key or ""
    # Another session's events do not show here.
    window.bridge.chatEvent.emit({"runId": "elsewhere", "sessionKey": "agent:main:other", "seq": 1,
                                  "state": "delta", "deltaText": "nope",
                                  "message": {"role": "assistant", "content": [{"type": "text", "text": "nope"}]}})
    assert len(replies(window)) == 1 and window.stop_button.isHidden()

    opened = await expect(window.sessionOpened)
    window.new_chat()
    await opened
    assert window.conversation.messages() == []
    opened = await expect(window.sessionOpened)
    window.open_session(key)
    await opened
    assert [m.markdown() for m in users(window)] == ["First question"]  # without the message_id suffix
    [reply] = replies(window)
    assert reply.markdown() == "Reply with `code` and **bold**."
    assert "fake/fake-1" in reply.meta_label.text() or "fake-1" in reply.meta_label.text()
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(reply.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Reply with `code` and **bold**."
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_cost_from_the_replies(window: ChatWindow) -> None:
    key = window.current_key
    usage = {"input": 1200, "output": 800, "totalTokens": 2000, "cost": {"total": 0.0123}}
    window.bridge.chatEvent.emit({"runId": "r1", "sessionKey": key, "seq": 1, "state": "delta", "deltaText": "Hi",
                                  "message": {"role": "assistant", "content": [{"type": "text", "text": "Hi"}]}})
    assert window.stop_button.isVisible()
    window.bridge.chatEvent.emit({"runId": "r1", "sessionKey": key, "seq": 2, "state": "final", "usage": usage,
                                  "message": {"role": "assistant", "content": [{"type": "text", "text": "Hi!"}],
                                              "provider": "paid", "model": "big"}})
    assert window.session_cost() == pytest.approx(0.0123)
    assert "$0.0123" in window.usage_label.text()
    [reply] = replies(window)
    assert reply.markdown() == "Hi!" and "paid/big" in reply.meta_label.text()
    assert "1200 in" in reply.meta_label.text()
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_screenshot_code_block(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.text = CODE_REPLY
    desktop.fake.behavior.chunks = 40
    finished = await expect(window.replyFinished)
    await type_and_send(qtbot, window, "How do I read a JSON settings file in Python?")
    assert (await finished)[1] == "final"
    reply = replies(window)[-1]
    assert reply.markdown() == CODE_REPLY
    await drawn(window)
    assert reply.body.code_blocks()[0].startswith("import json")
    await wait_until(lambda: not window.usage_label.text().startswith("0 "), what="usage")
    await listed(window)
    save_screenshot(window, "chat-code-block")
    await settled(window)  # nothing may run while pytest-qt processes events


async def test_screenshot_chinese(desktop: Desktop, window: ChatWindow, qtbot: QtBot) -> None:
    desktop.fake.behavior.text = CHINESE_REPLY
    desktop.fake.behavior.chunks = 30
    finished = await expect(window.replyFinished)
    window.input.setFocus()
    commit = QInputMethodEvent()
    commit.setCommitString("请用中文介绍一下你自己。")
    QApplication.sendEvent(window.input, commit)
    qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert (await finished)[1] == "final"
    reply = replies(window)[-1]
    assert reply.markdown() == CHINESE_REPLY
    await drawn(window)
    assert "这是一个流式回复" in reply.body.toPlainText()
    assert window.title_label.text() == "请用中文介绍一下你自己。"
    await wait_until(lambda: not window.usage_label.text().startswith("0 "), what="usage")
    await listed(window)
    save_screenshot(window, "chat-chinese")
    await settled(window)  # nothing may run while pytest-qt processes events
