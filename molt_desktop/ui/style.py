"""The app's look: Fusion with a light or dark palette that follows the system, and icons to match.

`apply_style(app)` picks the palette from the system colour scheme (Qt 6.5+
`QStyleHints.colorScheme()`), switches it live when the system does (`colorSchemeChanged`),
adds a small stylesheet (spacing, rounded inputs, list rows) and a font whose fallbacks cover
Chinese and Japanese. `themed_icon(name)` gives an icon of resources/icons/ whose neutral grey
strokes are redrawn in the palette's text colour, so monochrome icons stay crisp on dark
backgrounds; coloured icons (tray states, ok/warning/error/info) keep their colours.

Not here: the icons themselves (resources/icons/), window layouts (each window's module).
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from molt_desktop.logs import get_logger
from molt_desktop.ui.resources import icon_path

log = get_logger("ui")

# The grey every monochrome icon in resources/icons/ is drawn with (readable on light and dark
# backgrounds as it is; themed_icon() swaps it for the palette's own text colour).
ICON_GREY = "#6e7681"
ICON_SIZES = (16, 20, 24, 32, 48, 64)
ACCENT = "#2f6fde"

# Families tried in order; Qt falls back per character, so CJK text finds a CJK font even
# when the first family is Latin-only. The system default family stays first.
CJK_FALLBACKS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Micro Hei",
                 "Microsoft YaHei UI", "Yu Gothic UI", "Meiryo UI", "PingFang SC", "Hiragino Sans"]

LIGHT = {
    "window": "#f5f6f8", "base": "#ffffff", "alternate": "#f0f2f5", "text": "#1f2328", "muted": "#656d76",
    "button": "#f6f8fa", "highlight": ACCENT, "highlighted_text": "#ffffff", "border": "#d0d7de",
    "tooltip": "#ffffff", "link": "#0969da", "disabled": "#8c959f",
}
DARK = {
    "window": "#1f2226", "base": "#16181b", "alternate": "#22262b", "text": "#e6e8eb", "muted": "#9aa3ad",
    "button": "#2a2e34", "highlight": "#3b7ded", "highlighted_text": "#ffffff", "border": "#3a4048",
    "tooltip": "#2a2e34", "link": "#6cb2ff", "disabled": "#6b737c",
}

STYLESHEET = """
QToolTip { color: %(text)s; background: %(tooltip)s; border: 1px solid %(border)s; padding: 4px 6px; }
QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QComboBox {
    border: 1px solid %(border)s; border-radius: 6px; padding: 4px 6px; background: %(base)s;
    selection-background-color: %(highlight)s; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus, QComboBox:focus {
    border: 1px solid %(highlight)s; }
QPushButton { border: 1px solid %(border)s; border-radius: 6px; padding: 5px 12px; background: %(button)s; }
QPushButton:hover { border-color: %(highlight)s; }
QPushButton:default { border-color: %(highlight)s; }
QPushButton:disabled { color: %(disabled)s; }
QGroupBox { border: 1px solid %(border)s; border-radius: 8px; margin-top: 14px; padding: 10px 8px 8px 8px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; font-weight: 600; }
QListView::item, QTreeView::item { padding: 4px 2px; }
QMenu::separator { height: 1px; background: %(border)s; margin: 4px 8px; }
QLabel[muted="true"] { color: %(muted)s; }
"""


def is_dark(app: QGuiApplication | None = None) -> bool:
    """Whether the system (or, before Qt 6.5, the current palette) is dark."""
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    if app is None:
        return False
    hints = app.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None:
        value = scheme()
        if value == Qt.ColorScheme.Dark:
            return True
        if value == Qt.ColorScheme.Light:
            return False
    window = app.palette().color(QPalette.ColorRole.Window)
    return window.lightness() < 128


def colors(dark: bool) -> dict[str, str]:
    return DARK if dark else LIGHT


def make_palette(dark: bool) -> QPalette:
    c = colors(dark)
    palette = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    for r, key in ((role.Window, "window"), (role.Base, "base"), (role.AlternateBase, "alternate"),
                   (role.WindowText, "text"), (role.Text, "text"), (role.ButtonText, "text"),
                   (role.Button, "button"), (role.Highlight, "highlight"),
                   (role.HighlightedText, "highlighted_text"), (role.ToolTipBase, "tooltip"),
                   (role.ToolTipText, "text"), (role.Link, "link"), (role.PlaceholderText, "muted"),
                   (role.BrightText, "highlighted_text")):
        palette.setColor(r, QColor(c[key]))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(group.Disabled, r, QColor(c["disabled"]))
    palette.setColor(role.Mid, QColor(c["border"]))
    palette.setColor(role.Dark, QColor(c["border"]).darker(130))
    palette.setColor(role.Light, QColor(c["base"]))
    return palette


def ui_font(base: QFont | None = None) -> QFont:
    """The system UI font with CJK fallbacks (never a Latin-only family on its own)."""
    font = QFont(base) if base is not None else QGuiApplication.font()
    families = [f for f in font.families() if f] or [font.family()]
    font.setFamilies(families + [f for f in CJK_FALLBACKS if f not in families])
    return font


class _SchemeFollower(QObject):
    """Re-applies the palette when the system colour scheme changes."""

    applied = Signal(bool)  # dark

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.dark: bool | None = None
        changed = getattr(app.styleHints(), "colorSchemeChanged", None)
        if changed is not None:
            changed.connect(lambda _scheme: self.apply())

    def apply(self) -> None:
        dark = is_dark(self.app)
        if dark == self.dark:
            return
        self.dark = dark
        self.app.setPalette(make_palette(dark))  # widgets get PaletteChange and redraw their icons
        self.app.setStyleSheet(STYLESHEET % colors(dark))
        log.info("palette: %s", "dark" if dark else "light")
        self.applied.emit(dark)


def apply_style(app: QApplication) -> _SchemeFollower:
    """Fusion, the system's light or dark palette (followed live), the stylesheet and the font."""
    existing = app.findChild(_SchemeFollower)
    if existing is not None:
        existing.apply()
        return existing
    app.setStyle("Fusion")
    app.setFont(ui_font(app.font()))
    follower = _SchemeFollower(app)
    follower.apply()
    return follower


def current_text_color() -> QColor:
    app = QGuiApplication.instance()
    if app is None:
        return QColor(ICON_GREY)
    return QGuiApplication.palette().color(QPalette.ColorRole.WindowText)


def themed_icon(name: str) -> QIcon:
    """`resources/icons/<name>.svg` with its neutral grey in the palette's text colour.

    Widgets call it again on `QEvent.PaletteChange` to follow a light/dark switch.
    """
    return _themed_icon(name, current_text_color().name())


@cache
def _themed_icon(name: str, color_name: str) -> QIcon:
    path = icon_path(name)
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s not found at %s", name, path)
        return QIcon()
    if ICON_GREY not in svg:
        return QIcon(str(path))
    svg = svg.replace(ICON_GREY, color_name)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in ICON_SIZES:
        for ratio in (1, 2):
            image = QImage(size * ratio, size * ratio, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setOpacity(0.85)  # a touch softer than body text, like native toolbar icons
            renderer.render(painter, QRectF(0, 0, size * ratio, size * ratio))
            painter.end()
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            result.addPixmap(pixmap)
    return result


__all__ = ["apply_style", "colors", "is_dark", "make_palette", "themed_icon", "ui_font"]
