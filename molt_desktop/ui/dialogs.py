"""Dialogs awaited from coroutines, and the small dialogs of start-up.

`QDialog.exec()` runs a nested Qt event loop; under qasync that would run asyncio tasks inside
another task's step. `await show_dialog(dialog)` opens the dialog window-modally with `open()`
and waits for its `finished` signal instead, so the loop keeps running normally.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QWidget

from molt_desktop.ui.i18n import tr
from molt_desktop.ui.resources import icon


async def show_dialog(dialog: QDialog) -> int:
    """Open `dialog` and return its result code once the user closes it."""
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(code: int) -> None:
        if not future.done():
            future.set_result(code)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await future
    finally:
        dialog.finished.disconnect(finished)


async def ask_other_port(message: str, current: int, parent: QWidget | None = None) -> int | None:
    """Port-in-use at start-up: the reason, and a way to pick another port. None = give up."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(tr("Gateway port in use"))
    dialog.setWindowIcon(icon("molt-desktop"))
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    dialog.setIntRange(1024, 65535)
    dialog.setIntValue(current + 1 if current < 65535 else 18790)
    dialog.setLabelText(tr("{reason}\n\nmolt-desktop can use another port instead. The port is saved in the "
                           "settings; other devices that use this gateway need the new port too.\n\n"
                           "Port:").format(reason=message))
    dialog.setOkButtonText(tr("Use this port"))
    dialog.setCancelButtonText(tr("Quit"))
    if await show_dialog(dialog) != QDialog.DialogCode.Accepted:
        return None
    return int(dialog.intValue())


async def show_error(title: str, message: str, parent: QWidget | None = None) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Close, parent)
    box.setWindowIcon(icon("molt-desktop"))
    await show_dialog(box)
