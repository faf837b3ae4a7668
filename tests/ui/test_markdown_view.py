"""Markdown of one message: block splitting, incremental rendering, highlighted code, copy code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from molt_desktop.ui.markdown_view import MarkdownView, split_blocks
from tests.ui.conftest import wait_until

REPLY = """# Plan

Intro paragraph with **bold** and `code`,
wrapped over two lines.

- first item
- second item
  continued

1. one
2. two

```python
def double(x):
    \"\"\"Twice x.\"\"\"
    return x * 2  # simple
```

| a | b |
|---|---|
| 1 | 2 |

Closing words: 中文 and 日本語.
"""


@pytest.fixture
def md(qtbot: QtBot) -> Iterator[MarkdownView]:
    # In a scroll area, as in the chat window: the view sizes itself to its text, and a window
    # holding it directly would ask the (offscreen) platform to resize.
    area = QScrollArea()
    area.setWidgetResizable(True)
    qtbot.addWidget(area)
    content = QWidget()
    layout = QVBoxLayout(content)
    md = MarkdownView(content)
    layout.addWidget(md)
    layout.addStretch(1)
    area.setWidget(content)
    area.resize(600, 400)
    area.show()
    yield md


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def rendered_at_once(markdown: str) -> list[str]:
    """What the document shows, as non-empty lines, when `markdown` is rendered in one go."""
    doc = QTextDocument()
    doc.setMarkdown(markdown)
    return lines(doc.toPlainText())


def test_split_blocks_finishes_a_block_only_when_the_next_began() -> None:
    blocks, used = split_blocks("Hello\n\nWorld", final=False)
    assert [b.source for b in blocks] == ["Hello"] and used == len("Hello\n\n")
    blocks, used = split_blocks("Hello\n\n", final=False)
    assert blocks == [] and used == 0  # a blank line alone: the paragraph may still have more
    blocks, used = split_blocks("```py\nx = 1\n\ny = 2\n", final=False)
    assert blocks == [] and used == 0  # an open fence stays open across blank lines
    blocks, used = split_blocks("```py\nx = 1\n```\nafter", final=False)
    assert len(blocks) == 1 and blocks[0].is_code and blocks[0].code == "x = 1" and blocks[0].lang == "py"
    blocks, _ = split_blocks("- a\n- b\n  more\n- c\n", final=True)
    assert [b.source for b in blocks] == ["- a", "- b\n  more", "- c"]
    blocks, _ = split_blocks("Text\n```\ncode\n", final=True)
    assert [b.is_code for b in blocks] == [False, True] and blocks[1].code == "code"


def test_streamed_reply_renders_each_finished_block_once(md: MarkdownView) -> None:
    for start in range(0, len(REPLY), 3):
        md.append(REPLY[start:start + 3])
        md.flush()  # each delta in a frame of its own
    md.finish(REPLY)
    md.flush()
    blocks, _ = split_blocks(REPLY, final=True)
    assert md.stats.finished == {index: 1 for index in range(len(blocks))}
    assert md.stats.tail > len(blocks)  # the open tail was redrawn as it grew
    assert md.markdown() == REPLY
    assert lines(md.toPlainText().replace("python   Copy code", "")) == rendered_at_once(REPLY)
    assert md.code_blocks() == ['def double(x):\n    """Twice x."""\n    return x * 2  # simple']


def test_finish_with_different_text_shows_the_final_text(md: MarkdownView) -> None:
    md.append("Partial answ")
    md.finish("The whole answer.")
    assert md.markdown() == "The whole answer."
    assert lines(md.toPlainText()) == ["The whole answer."]


def test_code_is_highlighted_and_copied(md: MarkdownView) -> None:
    md.set_markdown("Look:\n\n```python\nimport os\nprint(os.name)\n```\n")
    colours = set()
    block = md.document().begin()
    while block.isValid():
        if block.text().startswith("import"):
            it = block.begin()
            while not it.atEnd():
                colours.add(it.fragment().charFormat().foreground().color().name())
                it += 1
        block = block.next()
    assert len(colours) >= 2, "the keyword and the name should differ in colour"
    QGuiApplication.clipboard().clear()
    md.anchorClicked.emit(__import__("PySide6.QtCore", fromlist=["QUrl"]).QUrl("copy-code:0"))
    assert QGuiApplication.clipboard().text() == "import os\nprint(os.name)"


def test_open_code_fence_grows_by_lines(md: MarkdownView) -> None:
    code = "".join(f"value_{n} = {n} * 2\n" for n in range(300))
    md.append("```python\n")
    for start in range(0, len(code), 7):
        md.append(code[start:start + 7])
        md.flush()
    assert md.stats.finished == {}  # still open: nothing finished yet
    text = md.toPlainText()
    assert "value_299 = 299 * 2" in text and text.count("value_150 = 150") == 1
    md.append("```\n")
    md.finish()
    md.flush()
    assert md.stats.finished == {0: 1}
    assert md.code_blocks() == [code.rstrip("\n")]


def test_two_thousand_deltas_stay_cheap(md: MarkdownView) -> None:
    """Per-delta work follows the tail: the last deltas cost about what the first ones did."""
    paragraph = "Streaming text with some **bold** words and a [link](https://example.com). " * 3
    reply = "\n\n".join(f"{paragraph} ({n})" for n in range(80))
    step = max(1, len(reply) // 2000)
    timings: list[float] = []
    for start in range(0, len(reply), step):
        t0 = time.perf_counter()
        md.append(reply[start:start + step])
        md.flush()
        timings.append(time.perf_counter() - t0)
    md.finish(reply)
    md.flush()
    assert len(timings) >= 2000
    first, last = sorted(timings[:300])[150], sorted(timings[-300:])[150]
    assert last < first * 4 + 0.002, (first, last)
    assert md.markdown() == reply
    assert sum(md.stats.finished.values()) == len(md.stats.finished) == 80


def test_cjk_text_is_kept(md: MarkdownView) -> None:
    md.set_markdown("## 标题\n\n这是一个**中文**段落。\n\n- 日本語の項目\n")
    assert lines(md.toPlainText()) == ["标题", "这是一个中文段落。", "日本語の項目"]


async def test_a_burst_of_deltas_is_drawn_once_per_frame(md: MarkdownView) -> None:
    """Deltas arriving within one frame are drawn by one update; the text ends up exact."""
    md.append("Warm-up.\n\n")  # drawn at once: nothing was drawn within the last frame
    assert md.stats.updates == 1 and "Warm-up." in md.toPlainText()
    burst = [f"word{n} " for n in range(200)] + ["\n\n- item 中文\n"]
    for delta in burst:
        md.append(delta)
    assert md.stats.updates == 1  # within the frame: nothing drawn yet
    assert md.markdown() == "Warm-up.\n\n" + "".join(burst)  # but all of it is kept
    await wait_until(lambda: md.stats.updates == 2, timeout=2.0)
    await asyncio.sleep(0.1)
    assert md.stats.updates == 2  # one update drew the whole burst
    assert "word199" in md.toPlainText() and "item 中文" in md.toPlainText()
    md.append("tail")
    md.finish()
    await wait_until(lambda: not md.pending(), timeout=5.0)
    assert md.markdown() == "Warm-up.\n\n" + "".join(burst) + "tail"
    assert lines(md.toPlainText()) == rendered_at_once(md.markdown())


def test_list_items_sit_close_together(md: MarkdownView) -> None:
    md.set_markdown("Intro.\n\n- one\n- two\n- three\n\nAfter.\n")
    rects = {}
    layout = md.document().documentLayout()
    block = md.document().begin()
    while block.isValid():
        rects[block.text()] = layout.blockBoundingRect(block)
        block = block.next()
    line = rects["one"].height()
    gap = rects["two"].top() - rects["one"].bottom()
    assert 0 <= gap <= line / 2, (gap, line)
    assert rects["one"].top() - rects["Intro."].bottom() > gap  # the list is set off from the text


def test_the_app_stylesheet_never_cuts_a_message_off(md: MarkdownView, qtbot: QtBot) -> None:
    # The app styles every text edit with a border and padding (ui/style.py); a message body sizes
    # itself to its document, so it must take none of that or its text is clipped.
    from PySide6.QtWidgets import QApplication

    from molt_desktop.ui.style import STYLESHEET, colors

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.styleSheet()
    app.setStyleSheet(STYLESHEET % colors(False))
    try:
        md.set_markdown("Say hi\n\nHello from the model: **two** paragraphs.")
        qtbot.waitUntil(lambda: md.height() >= int(md.document().size().height()))
        document = int(md.document().size().height())
        assert md.contentsRect().height() >= document, (md.contentsRect(), document)
        assert md.viewport().height() >= document, (md.viewport().height(), document)
    finally:
        app.setStyleSheet(before)
