"""One message's Markdown, rendered incrementally while it streams.

markdown_blocks.py cuts the source into top-level blocks and says which are finished.
`MarkdownView` renders every finished block once, appended to the document's blocks (code
blocks in a shaded QTextFrame), and redraws only the open tail block; an unclosed code fence
grows line by line (only the new lines are highlighted; the whole block is highlighted once
when it closes). Per-update work is therefore proportional to the tail, not to the reply.
The event loop stays free while a long reply streams: deltas arriving within one frame
(FRAME_MS) are drawn by one update, each update is one edit block (one layout pass), and a
backlog of finished blocks (a burst, or the end of a stream) is drawn in slices of about
BUDGET_MS per turn of the loop.

Prose goes through Qt's CommonMark importer (`QTextCursor.insertMarkdown`); fenced code is
highlighted with Pygments (a light or dark style following the palette) and gets a "Copy
code" link. Not here: message chrome (header, copy button, bubbles) — see chat_messages.py.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
    QTextFrameFormat,
    QTextLength,
)
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

from molt_desktop.ui.chat_code import (
    code_style,
    insert_highlighted,
    palette_is_dark,
    text_format,
)
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.markdown_blocks import HEADING, LIST_ITEM, Block, open_fence, split_blocks

FRAME_MS = 24  # at most one streamed update per this many milliseconds
BUDGET_MS = 8  # finished blocks drawn per turn of the event loop, at most (about)


def _space_blocks(document: QTextDocument, start: int, source: str) -> None:
    """Even spacing for the blocks from `start` to the end, by the kind of Markdown block:
    list items sit close together (Qt's importer gives them a paragraph's margins, so a list
    would read as separate lines), headings keep to the text they head."""
    first = source.lstrip(" ")
    if LIST_ITEM.match(first):
        top, bottom = 1.0, 1.0
    elif HEADING.match(first):
        top, bottom = 8.0, 2.0
    else:
        top, bottom = 4.0, 4.0
    block = document.findBlock(start)
    while block.isValid():
        fmt = block.blockFormat()
        if (top, bottom) != (fmt.topMargin(), fmt.bottomMargin()):
            fmt.setTopMargin(top)
            fmt.setBottomMargin(bottom)
            QTextCursor(block).setBlockFormat(fmt)
        block = block.next()


# --- the view -----------------------------------------------------------------------------------

@dataclass
class RenderStats:
    """How often each finished block (by index) and the open tail were rendered, how many
    updates there were, and the time they took."""
    finished: Counter[int]
    tail: int = 0
    updates: int = 0
    seconds: float = 0.0


class _OpenCode:
    """The unclosed fence at the end of a stream: its code frame and how much of it is drawn."""

    def __init__(self, frame: QTextFrame, fence_line: str, lang: str, pending_pos: int) -> None:
        self.frame = frame
        self.fence_line = fence_line
        self.lang = lang
        self.done = 0  # characters of the code body drawn as complete lines
        self.pending_pos = pending_pos  # document position of the (redrawn) unfinished last line


class MarkdownView(QTextBrowser):
    """A read-only, self-sizing view of one message: `set_markdown()` for a whole text,
    `append()` while it streams, `finish()` when it ended; `set_plain()` for text shown as is.

    Streamed text is drawn at most once per FRAME_MS: deltas arriving sooner only extend the
    source, and one update draws them together (`flush()` draws what is pending at once;
    `finish()` always does). `markdown()` is always the whole text received."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._anchor_clicked)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(self.wordWrapMode().WrapAtWordBoundaryOrAnywhere)
        self.viewport().setAutoFillBackground(False)
        # The app's stylesheet gives text edits a border and padding (style.py); a message body has
        # neither, or its height (the document's) would cut the text off.
        self.setStyleSheet("QTextBrowser { background: transparent; border: none; padding: 0px; }")
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.stats = RenderStats(Counter())
        self._timer = QTimer(self)  # the next update: the frame's end, or the backlog's next slice
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._update)
        self._last_update = 0.0
        self._reset()

    # -- public ----------------------------------------------------------------------------------
    def markdown(self) -> str:
        """The Markdown source shown (streamed so far)."""
        return "".join(self._done) + self._tail

    def length(self) -> int:
        """len(self.markdown()), without joining the text."""
        return self._done_len + len(self._tail)

    def code_blocks(self) -> list[str]:
        return list(self._codes)

    def set_plain(self, text: str) -> None:
        self._reset()
        self._plain = True
        self._done = [text]
        self._done_len = len(text)
        self.setPlainText(text)

    def set_markdown(self, text: str) -> None:
        """Show a whole message at once (a loaded history)."""
        self._reset()
        self._tail = text
        self._final = True
        self._update(budget=None)

    def append(self, delta: str) -> None:
        if not delta:
            return
        self._tail += delta
        if self._timer.isActive():
            return  # drawn with the update already due
        wait = FRAME_MS - (time.perf_counter() - self._last_update) * 1000
        if wait <= 0:
            self._update()
        else:
            self._timer.start(max(1, int(wait)))

    def set_text(self, text: str) -> None:
        """Show `text` (the cumulative stream): appends when it continues what is shown."""
        current_len = self.length()
        if len(text) >= current_len and text.startswith(self.markdown()):
            self.append(text[current_len:])
        else:
            self.set_markdown_streaming(text)

    def set_markdown_streaming(self, text: str) -> None:
        self._reset()
        self._tail = text
        self._update()

    def finish(self, text: str | None = None) -> None:
        """The stream ended; `text` is the whole message when the gateway sent it."""
        if text is not None and text != self.markdown():
            self._reset()
            self._tail = text
        self._final = True
        self._timer.stop()
        self._update()

    def pending(self) -> bool:
        """Whether received text waits to be drawn (a frame or a backlog of blocks)."""
        return self._timer.isActive() or bool(self._queue)

    def flush(self) -> None:
        """Draw everything received now, whatever it costs (tests, screenshots)."""
        self._timer.stop()
        if not self._plain:
            self._update(budget=None)

    # -- rendering -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._timer.stop()
        self.clear()
        self._plain = False
        self._final = False  # the stream ended: everything is finished
        self._done: list[str] = []
        self._done_len = 0
        self._tail = ""
        self._queue: deque[Block] = deque()  # finished blocks not drawn yet
        self._codes: list[str] = []
        self._tail_start: int | None = None  # where the drawn open tail begins
        self._open_code: _OpenCode | None = None
        self._blocks = 0
        self._dark = palette_is_dark(self.palette())
        self.stats = RenderStats(Counter())

    def _update(self, budget: float | None = BUDGET_MS) -> None:
        """Draw what was received: newly finished blocks (for at most `budget` ms; the rest in
        the next turns of the event loop), then the open tail."""
        # One edit block per update: the document lays itself out (and reports its new size)
        # once at the end, not after every insertText/insertFrame of the update.
        started = time.perf_counter()
        edit = QTextCursor(self.document())
        edit.beginEditBlock()
        try:
            self._update_in_block(None if budget is None else started + budget / 1000)
        finally:
            edit.endEditBlock()
            self._last_update = time.perf_counter()
            self.stats.updates += 1
            self.stats.seconds += self._last_update - started
        if self._queue:
            self._timer.start(0)  # the backlog continues once the loop had its turn

    def _update_in_block(self, deadline: float | None) -> None:
        blocks, consumed = split_blocks(self._tail, self._final)
        if blocks or consumed:
            self._queue.extend(blocks)
            self._done.append(self._tail[:consumed])
            self._done_len += consumed
            self._tail = self._tail[consumed:]
        if self._queue:
            self._drop_tail()  # the tail comes after the blocks still to draw
            while self._queue:
                self._render_block(self._queue.popleft())
                if deadline is not None and time.perf_counter() > deadline:
                    return
        if self._final or not self._tail.strip():
            self._drop_tail()
        else:
            self._render_tail()

    def _drop_tail(self) -> None:
        start = self._tail_start
        if start is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._tail_start = None
        self._open_code = None

    def _at_end(self, for_frame: bool = False) -> tuple[QTextCursor, int]:
        """A cursor where the next block goes, and the position from which it can be removed.

        Prose goes straight into the document's block sequence (no frame per block: frames
        make every layout pass walk all of them); a block that already has text gets a fresh
        block after it. A frame (a code block) starts after the last block with text; an empty
        block left in front of it (at the very start, or between two code blocks) takes no room."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        mark = cursor.position()
        if cursor.block().length() > 1:
            if not for_frame:
                cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        elif for_frame:
            self._shrink_separator(cursor)
        else:
            cursor.setBlockFormat(QTextBlockFormat())
            cursor.setBlockCharFormat(QTextCharFormat())
        return cursor, mark

    def _insert_prose(self, source: str) -> int:
        cursor, mark = self._at_end()
        start = cursor.position()
        cursor.insertMarkdown(source)
        first = self.document().findBlock(start)
        if first.length() == 1 and first.next().isValid():
            # A list or a table begins a block of its own after the empty one the cursor was
            # in: drop that one (the list keeps its format), or flatten it before a table.
            QTextCursor(first).deleteChar()
            first = self.document().findBlock(start)
            if first.length() == 1 and first.next().isValid():
                self._shrink_separator(QTextCursor(first))
                start = first.next().position()
        _space_blocks(self.document(), start, source)
        return mark

    @staticmethod
    def _shrink_separator(cursor: QTextCursor) -> None:
        """The empty block Qt keeps between two frames: no height of its own."""
        block = QTextBlockFormat()
        block.setLineHeight(0, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
        cursor.setBlockFormat(block)
        char = QTextCharFormat()
        char.setFontPointSize(1)
        cursor.setBlockCharFormat(char)

    def _render_block(self, block: Block) -> None:
        index = self._blocks
        self._blocks += 1
        self.stats.finished[index] += 1
        if block.is_code:
            self._render_code(block.code or "", block.lang)
        else:
            self._insert_prose(block.source)

    def _code_frame(self, lang: str, number: int) -> tuple[QTextFrame, QTextCursor, int]:
        """A shaded frame with a header line (language, Copy code), a cursor for the code, and
        the position from which the frame can be removed."""
        cursor, mark = self._at_end(for_frame=True)
        style = code_style(self._dark)
        fmt = QTextFrameFormat()
        fmt.setTopMargin(5)
        fmt.setBottomMargin(5)
        fmt.setBackground(QColor(style.background_color))
        fmt.setPadding(8)
        fmt.setBorder(1)
        fmt.setBorderBrush(QColor("#30363d" if self._dark else "#d0d7de"))
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        fmt.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        inner = cursor.insertFrame(fmt)
        after = QTextCursor(self.document())
        after.setPosition(inner.lastPosition() + 1)
        self._shrink_separator(after)
        header = QTextCharFormat()
        header.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.85))
        header.setForeground(QColor("#8b949e" if self._dark else "#656d76"))
        cursor.insertText((lang or tr("code")) + "   ", header)
        link = QTextCharFormat(header)
        link.setAnchor(True)
        link.setAnchorHref(f"copy-code:{number}")
        link.setForeground(QColor("#58a6ff" if self._dark else "#0969da"))
        cursor.insertText(tr("Copy code"), link)
        block = QTextBlockFormat()
        block.setBottomMargin(4)
        cursor.setBlockFormat(block)
        cursor.insertBlock(QTextBlockFormat(), text_format(self._dark))
        return inner, cursor, mark

    def _render_code(self, code: str, lang: str) -> None:
        self._codes.append(code)
        _, cursor, _ = self._code_frame(lang, len(self._codes) - 1)
        insert_highlighted(cursor, code, lang, self._dark)

    def _render_tail(self) -> None:
        self.stats.tail += 1
        fence = open_fence(self._tail)
        if fence is not None:
            self._render_open_code(*fence)
            return
        self._drop_tail()
        self._tail_start = self._insert_prose(self._tail)

    def _render_open_code(self, fence_line: str, lang: str) -> None:
        """Draw only what is new in an unclosed fence: its new complete lines, and the last line."""
        state = self._open_code
        if state is None or state.fence_line != fence_line:
            self._drop_tail()
            inner, cursor, mark = self._code_frame(lang, len(self._codes))
            state = _OpenCode(inner, fence_line, lang, cursor.position())
            self._tail_start = mark
            self._open_code = state
        body = self._tail[len(fence_line) + 1:] if "\n" in self._tail else ""
        complete = body[: body.rfind("\n") + 1]
        cursor = QTextCursor(self.document())
        cursor.setPosition(state.pending_pos)
        cursor.setPosition(state.frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        new_lines = complete[state.done:]
        if new_lines:
            insert_highlighted(cursor, new_lines, lang, self._dark)
            state.done = len(complete)
        state.pending_pos = cursor.position()
        partial = body[len(complete):]
        if partial:
            cursor.insertText(partial, text_format(self._dark))

    # -- Qt ------------------------------------------------------------------------------------
    def _anchor_clicked(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("copy-code:"):
            index = int(text.split(":", 1)[1])
            codes = self._codes
            if self._open_code is not None and index == len(codes):
                fence = len(self._open_code.fence_line) + 1
                QGuiApplication.clipboard().setText(self._tail[fence:])
            elif 0 <= index < len(codes):
                QGuiApplication.clipboard().setText(codes[index])
        elif url.scheme() in ("http", "https", "mailto"):
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)

    def _fit_height(self, size: object = None) -> None:
        height = int(self.document().size().height()) + 2
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().sizeHint().width(), int(self.document().size().height()) + 2)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._plain:
            dark = palette_is_dark(self.palette())
            if dark != self._dark and (self._done or self._tail):
                text, final = self.markdown(), self._final
                self.set_markdown(text) if final else self.set_markdown_streaming(text)
