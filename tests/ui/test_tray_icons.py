"""Icons and palette: every icon the UI names is a valid SVG, the Windows .ico has its sizes, and
style.py follows light/dark with icons recoloured to match (screenshots in both palettes).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from molt_desktop.ui import style
from molt_desktop.ui.health_view import HealthView
from molt_desktop.ui.resources import icon_path
from molt_desktop.ui.tray import STATES, TrayIcon
from tests.ui.conftest import Desktop, save_screenshot, wait_until

UI_ICONS = ["send", "stop", "new-chat", "attach", "copy", "retry", "settings", "search", "pin", "delete", "export",
            "import", "health", "sync", "language", "quit", "chat", "refresh", "warning", "error", "ok", "info"]


def test_every_icon_is_a_valid_svg() -> None:
    for name in ["molt-desktop", *(f"tray-{s}" for s in STATES), *UI_ICONS]:
        path = icon_path(name)
        assert path.exists(), name
        renderer = QSvgRenderer(str(path))
        assert renderer.isValid(), name
        image = QImage(22, 22, QImage.Format.Format_ARGB32)
        image.fill(0)
        from PySide6.QtGui import QPainter

        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        drawn = sum(1 for y in range(22) for x in range(22) if image.pixelColor(x, y).alpha() > 0)
        assert drawn > 20, f"{name} draws almost nothing at 22 px"


def test_windows_icon_has_every_size() -> None:
    data = icon_path("molt-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, _colors, _r, _planes, _bits, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        image = QImage.fromData(QByteArray(data[offset:offset + length]))
        assert not image.isNull()
        assert image.width() == (width or 256) == image.height() == (height or 256)
        sizes.append(image.width())
    assert sizes == [16, 24, 32, 48, 64, 256]


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[QApplication]:
    palette, sheet, app_style = qapp.palette(), qapp.styleSheet(), qapp.style().name()
    yield qapp
    follower = qapp.findChild(style._SchemeFollower)
    if follower is not None:
        follower.setParent(None)
        follower.deleteLater()
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    if app_style:
        qapp.setStyle(app_style)


async def test_light_and_dark_palettes_and_icons(desktop: Desktop, styled: QApplication, qtbot: object,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dark = False
    monkeypatch.setattr(style, "is_dark", lambda app=None: dark)
    follower = style.apply_style(styled)
    assert "QLineEdit" in styled.styleSheet()
    assert styled.palette().color(QPalette.ColorRole.Window) == QColor(style.LIGHT["window"])
    assert any("WenQuanYi" in f or "Noto Sans CJK" in f for f in styled.font().families())
    light_icon = style.themed_icon("settings").pixmap(24, 24).toImage()

    tray = TrayIcon(desktop.bridge, desktop.actions)
    view = HealthView(desktop.bridge, desktop.actions)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.show()
    await wait_until(lambda: tray.state == "ok" and view.text("remote", "remotes") != "—")
    save_screenshot(view, "health-view-light")

    # The system switches to dark: the palette follows, monochrome icons are redrawn light.
    dark = True
    follower.apply()
    assert styled.palette().color(QPalette.ColorRole.Window) == QColor(style.DARK["window"])
    dark_icon = style.themed_icon("settings").pixmap(24, 24).toImage()

    def brightest(image: QImage) -> int:
        return max(image.pixelColor(x, y).lightness() for y in range(image.height()) for x in range(image.width())
                   if image.pixelColor(x, y).alpha() > 128)

    assert brightest(dark_icon) > brightest(light_icon) + 60
    view.update_view()
    save_screenshot(view, "health-view-dark")
    tray.menu().adjustSize()
    save_screenshot(tray.menu(), "tray-menu-dark")
    await wait_until(lambda: not desktop.bridge._tasks)
