"""Where the app's icons and compiled translations are, in a checkout, a wheel or a frozen build.

A checkout (and an editable install) has them in `<repo>/resources/`; the wheel carries them
as `molt_desktop/resources/`; a PyInstaller bundle under `sys._MEIPASS/resources/`.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def resource_dir() -> Path:
    candidates = [_PACKAGE / "resources", _PACKAGE.parent / "resources"]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.insert(0, Path(frozen) / "resources")
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    return candidates[-1]


def icon_path(name: str) -> Path:
    """`resources/icons/<name>.svg` (or the exact file name if it has a suffix)."""
    file = name if "." in name else f"{name}.svg"
    return resource_dir() / "icons" / file


@cache
def icon(name: str) -> QIcon:
    return QIcon(str(icon_path(name)))


def translations_dir() -> Path:
    return resource_dir() / "translations"
