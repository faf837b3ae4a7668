"""Code blocks of the chat's Markdown, highlighted with Pygments.

A light or dark Pygments style follows the palette; each token becomes a QTextCharFormat
(colour, weight, slant) in the system's fixed-width font, inserted straight into a
QTextDocument, so no HTML is parsed per block.
Not here: where code blocks are drawn (markdown_view.py).
"""

from __future__ import annotations

from functools import cache

from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.style import StyleMeta
from pygments.styles import get_style_by_name
from pygments.token import Token
from pygments.util import ClassNotFound
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)

LIGHT_CODE_STYLE = "default"
DARK_CODE_STYLE = "github-dark"


def palette_is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


@cache
def code_style(dark: bool) -> StyleMeta:
    return get_style_by_name(DARK_CODE_STYLE if dark else LIGHT_CODE_STYLE)


@cache
def code_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


@cache
def _lexer(lang: str) -> Lexer:
    try:
        return get_lexer_by_name(lang.lower(), stripnl=False, ensurenl=False) if lang else TextLexer()
    except ClassNotFound:
        return TextLexer()


@cache
def _token_format(dark: bool, token: object) -> QTextCharFormat:
    style = code_style(dark).style_for_token(token)
    fmt = QTextCharFormat()
    fmt.setFont(code_font())
    fmt.setForeground(QColor(f"#{style['color']}" if style["color"] else _code_text_color(dark)))
    if style["bold"]:
        fmt.setFontWeight(QFont.Weight.Bold)
    if style["italic"]:
        fmt.setFontItalic(True)
    return fmt


def _code_text_color(dark: bool) -> str:
    color = code_style(dark).style_for_token(Token.Text)["color"]
    return f"#{color}" if color else ("#e6edf3" if dark else "#1f2328")


def insert_highlighted(cursor: QTextCursor, code: str, lang: str, dark: bool) -> None:
    """Insert `code` at `cursor`, one QTextCharFormat per Pygments token."""
    for token, text in _lexer(lang).get_tokens(code):
        if text:
            cursor.insertText(text, _token_format(dark, token))


def text_format(dark: bool) -> QTextCharFormat:
    return _token_format(dark, Token.Text)
