"""Cutting streamed Markdown into top-level blocks, and knowing which ones are finished.

`split_blocks(tail, final)` cuts Markdown source into blocks (paragraphs, headings, list items,
fenced code, rules) and says how many are finished: a block is finished once the next one has
begun (or its closing fence arrived), so later text cannot change how it renders. Plain Python:
the drawing of the blocks is markdown_view.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(\s|$)")

_RULE = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")


# --- cutting Markdown into blocks -----------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A top-level block: its source (without the blank lines around it), and for fenced code
    the language and the code itself."""
    source: str
    code: str | None = None  # the fence's content, for a code block
    lang: str = ""

    @property
    def is_code(self) -> bool:
        return self.code is not None


def _fence_block(source: str, closed: bool) -> Block:
    lines = source.split("\n")
    match = _FENCE_OPEN.match(lines[0])
    lang = match.group(2) if match else ""
    body = lines[1:-1] if closed and len(lines) > 1 else lines[1:]
    if not closed and body and body[-1] == "":
        body = body[:-1]
    return Block(source, "\n".join(body), lang)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence[0] * len(fence))
            and stripped == stripped[0] * len(stripped) and stripped[0] == fence[0])


def split_blocks(tail: str, final: bool) -> tuple[list[Block], int]:
    """The finished blocks at the start of `tail`, and how many characters of it they (and the
    blank lines after them) take. With `final`, everything is finished."""
    blocks: list[Block] = []
    start = -1  # where the open block starts; -1: between blocks
    kind = ""  # "fence", "list" or "text" for the open block
    fence = ""
    blank_at = -1  # where the first blank line after the open block's text starts
    consumed = 0
    pos = 0
    length = len(tail)

    def close(end: int) -> None:
        nonlocal start, consumed
        source = tail[start:end].rstrip("\n")
        if source.strip():
            blocks.append(_fence_block(source, True) if kind == "fence" else Block(source))
        start = -1
        consumed = end

    while pos < length:
        newline = tail.find("\n", pos)
        if newline < 0:
            if not final:
                # A line that begins unindented after a blank line starts a new block,
                # whatever the rest of it turns out to be.
                if start >= 0 and kind != "fence" and blank_at >= 0 and tail[pos] not in " \t":
                    close(blank_at)
                    consumed = pos
                break
            newline = length
        line = tail[pos:newline]
        line_end = min(newline + 1, length)
        blank = not line.strip()
        if start < 0:
            if blank:
                consumed = line_end
            else:
                start, blank_at = pos, -1
                opened = _FENCE_OPEN.match(line)
                if opened:
                    kind, fence = "fence", opened.group(1)
                elif HEADING.match(line) or _RULE.match(line):
                    kind = "text"
                    close(line_end)  # a heading or a rule is a block by itself
                else:
                    kind = "list" if LIST_ITEM.match(line) else "text"
        elif kind == "fence":
            if _closes(line, fence):
                close(line_end)
        elif blank:
            if blank_at < 0:
                blank_at = pos
        else:
            indented = line[:1] in (" ", "\t")
            opened = None if indented else _FENCE_OPEN.match(line)
            new_item = not indented and kind == "list" and LIST_ITEM.match(line)
            starts_new = opened or (not indented and (HEADING.match(line) or new_item)) or (
                blank_at >= 0 and not indented)
            if starts_new:
                close(blank_at if blank_at >= 0 else pos)
                start, blank_at = pos, -1
                consumed = pos
                if opened:
                    kind, fence = "fence", opened.group(1)
                elif HEADING.match(line):
                    kind = "text"
                    close(line_end)
                else:
                    kind = "list" if LIST_ITEM.match(line) else "text"
            else:
                blank_at = -1
        pos = line_end
    if final and start >= 0:
        source = tail[start:].rstrip("\n")
        if source.strip():
            blocks.append(_fence_block(source, False) if kind == "fence" else Block(source))
        consumed = length
    elif final:
        consumed = length
    return blocks, consumed


def open_fence(tail: str) -> tuple[str, str] | None:
    """(fence line, language) when `tail` is a single unclosed fenced code block."""
    first, _, _ = tail.partition("\n")
    match = _FENCE_OPEN.match(first)
    return (first, match.group(2)) if match else None
