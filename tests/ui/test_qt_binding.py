"""The Qt binding itself: a known-bad PySide6 release must not slip back in.

PySide6 6.12.0 drops one reference to None on every call of a Qt method that returns nothing;
on Python 3.11 (None is not immortal) a long streamed reply then kills the process with
"Fatal Python error: none_dealloc". pyproject.toml excludes that release; this guards the pin.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel


def test_void_calls_keep_none_alive(qapp: QApplication) -> None:
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
    assert sys.getrefcount(None) - before > -100
