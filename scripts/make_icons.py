"""Render resources/icons/molt-desktop.svg into the Windows icon resources/icons/molt-desktop.ico
and the installer's welcome/finish picture installers/windows/welcome.bmp.

    .venv/bin/python scripts/make_icons.py [--check]

The .ico holds 16, 24, 32, 48, 64 and 256 px images, each drawn from the SVG with QtSvg and
stored PNG-compressed (Windows Vista and later read PNG entries at every size). The .bmp is the
164 x 314 side picture of NSIS's welcome and finish pages: the icon on the icon's own colours.
Both are committed; `--check` exits 1 when a committed file differs from a fresh render (run it
after editing the SVG).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 256)


def render_png(svg: Path, size: int) -> bytes:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(images: list[tuple[int, bytes]]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per image + the PNG data (width/height 0 means 256)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    blobs = b""
    for size, png in images:
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(blobs))
        blobs += png
    return header + entries + blobs


def make_ico(svg: Path) -> bytes:
    return ico_bytes([(size, render_png(svg, size)) for size in SIZES])


WELCOME_SIZE = (164, 314)  # what MUI2's welcome and finish pages show, in pixels at 96 dpi


def make_welcome_bmp(svg: Path) -> bytes:
    """The icon, large, on a white plate over the icon's coral gradient; a 24-bit BMP."""
    width, height = WELCOME_SIZE
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    gradient = QLinearGradient(0, 0, width, height)
    gradient.setColorAt(0, QColor("#ff8a5c"))
    gradient.setColorAt(1, QColor("#e0413f"))
    painter.fillRect(0, 0, width, height, gradient)
    side, top = 112, 64
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 235))
    painter.drawRoundedRect(QRectF((width - side) / 2 - 8, top - 8, side + 16, side + 16), 30, 30)
    QSvgRenderer(str(svg)).render(painter, QRectF((width - side) / 2, top, side, side))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_RGB888).save(buffer, "BMP")
    buffer.close()
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed .ico")
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = ICONS / "molt-desktop.svg"
    outputs = {ICONS / "molt-desktop.ico": make_ico(svg),
               ROOT / "installers" / "windows" / "welcome.bmp": make_welcome_bmp(svg)}
    if args.check:
        stale = [target for target, data in outputs.items() if not target.exists() or target.read_bytes() != data]
        for target in stale:
            print(f"{target} is out of date: run scripts/make_icons.py", file=sys.stderr)
        return 1 if stale else 0
    for target, data in outputs.items():
        target.write_bytes(data)
        print(f"wrote {target} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
