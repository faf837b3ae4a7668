"""The Test part of Settings > Remote gateways: the button, its outcome, and the pairing walkthrough.

`RemoteTestPanel(bridge, values)` runs remote_probe.check_remote() with what the editor shows
(`values()` -> RemoteTarget) and shows the outcome in words a person can act on:
- connected: the `health` round trip and the server's version;
- a wrong or missing token;
- a TLS fingerprint mismatch: both fingerprints, and a button that pins the server's after a
  confirmation (`trustFingerprint(str)`; the page puts it into the field and tests again);
- PAIRING_REQUIRED: the request id, the exact commands that approve it on the server (for an
  OpenClaw gateway and for `molt-desktop gateway`) with Copy buttons, and Check again.

Not here: connecting and sorting the errors (remote_probe.py), the list of remotes (settings_remotes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from molt_desktop.ui.bridge import GatewayBridge, describe_error
from molt_desktop.ui.dialogs import show_dialog
from molt_desktop.ui.i18n import tr
from molt_desktop.ui.remote_probe import RemoteCheck, check_remote
from molt_desktop.ui.settings_common import ERROR_COLOR, OK_COLOR, WARNING_COLOR, text_label
from molt_desktop.ui.style import themed_icon


@dataclass
class RemoteTarget:
    url: str
    token: str | None
    password: str | None
    tls_fingerprint: str | None


class CommandRow(QWidget):
    """One command to run on the server, selectable, with a Copy button."""

    def __init__(self, command: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(command)
        self.edit.setObjectName("pairingCommand")
        self.edit.setReadOnly(True)
        self.edit.setFont(mono_font())
        self.edit.setCursorPosition(0)
        self.copy_button = QPushButton(themed_icon("copy"), "")
        self.copy_button.setObjectName("copyPairingCommand")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.edit, 1)
        row.addWidget(self.copy_button)
        self.retranslate()

    @property
    def command(self) -> str:
        return self.edit.text()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.command)
        self.copy_button.setText(tr("Copied"))

    def retranslate(self) -> None:
        self.copy_button.setText(tr("Copy"))
        self.copy_button.setToolTip(tr("Copy the command to the clipboard"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class RemoteTestPanel(QWidget):
    finished = Signal(object)  # RemoteCheck
    trustFingerprint = Signal(str)  # the server's fingerprint, after the user confirmed it

    def __init__(self, bridge: GatewayBridge, values: Callable[[], RemoteTarget],
                 state_dir: Callable[[], Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.values = values
        self.state_dir = state_dir
        self.result: RemoteCheck | None = None
        self.running = False
        self.setObjectName("remoteTest")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        top = QHBoxLayout()
        self.test_button = QPushButton(themed_icon("health"), "")
        self.test_button.setObjectName("testRemote")
        self.test_button.clicked.connect(self.run)
        self.status = QLabel()
        self.status.setObjectName("remoteTestStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setContentsMargins(0, 5, 0, 0)  # level with the button's text
        # A wrapped label is measured at its minimum width: give it one, or the row grows tall.
        self.status.setMinimumWidth(320)
        top.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.status, 1, Qt.AlignmentFlag.AlignTop)
        column.addLayout(top)

        # A fingerprint mismatch: both fingerprints, and trusting the server's one.
        self.tls_box = _box("remoteTlsMismatch")
        tls = QVBoxLayout(self.tls_box)
        prints = QFormLayout()
        prints.setHorizontalSpacing(10)
        self.pinned_name, self.pinned_value = QLabel(), text_label("pinnedFingerprint")
        self.server_name, self.server_value = QLabel(), text_label("serverFingerprint")
        for name, value in ((self.pinned_name, self.pinned_value), (self.server_name, self.server_value)):
            value.setWordWrap(False)
            value.setFont(mono_font())
            prints.addRow(name, value)
        tls.addLayout(prints)
        self.tls_text = text_label("tlsMismatchText")
        self.trust_button = QPushButton(themed_icon("warning"), "")
        self.trust_button.setObjectName("trustFingerprint")
        self.trust_button.clicked.connect(lambda: self.bridge.spawn(self.trust()))
        tls.addWidget(self.tls_text)
        tls.addWidget(self.trust_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.tls_box)

        # PAIRING_REQUIRED, walked through.
        self.pairing_box = _box("remotePairing")
        pairing = QVBoxLayout(self.pairing_box)
        pairing.setSpacing(6)
        self.pairing_title = QLabel()
        self.pairing_title.setObjectName("pairingTitle")
        font = self.pairing_title.font()
        font.setWeight(font.Weight.DemiBold)
        self.pairing_title.setFont(font)
        self.pairing_intro = text_label("pairingIntro")
        self.request_label = text_label("pairingRequest")
        self.openclaw_label = text_label("pairingOpenclawLabel")
        self.molt_label = text_label("pairingMoltLabel")
        self.command_rows: list[CommandRow] = []
        self._commands = QVBoxLayout()
        self._commands.setSpacing(4)
        self.pairing_after = text_label("pairingAfter")
        self.check_again = QPushButton(themed_icon("refresh"), "")
        self.check_again.setObjectName("checkAgain")
        self.check_again.clicked.connect(self.run)
        for widget in (self.pairing_title, self.pairing_intro, self.request_label):
            pairing.addWidget(widget)
        pairing.addLayout(self._commands)
        pairing.addWidget(self.pairing_after)
        pairing.addWidget(self.check_again, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.pairing_box)
        self.retranslate()
        self.reset()

    # --- running ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Nothing tested yet (another remote was selected)."""
        self.result = None
        self.status.clear()
        self.tls_box.hide()
        self.pairing_box.hide()

    def run(self) -> None:
        if self.running:
            return
        target = self.values()
        if not target.url.lower().startswith(("ws://", "wss://")):
            self._say(False, tr("Enter a ws:// or wss:// address first."))
            return
        self.running = True
        self.test_button.setEnabled(False)
        self.check_again.setEnabled(False)
        self._say(None, tr("Connecting to {url}…").format(url=target.url))
        self.bridge.spawn(check_remote(target.url, token=target.token, password=target.password,
                                       tls_fingerprint=target.tls_fingerprint, state_dir=self.state_dir()),
                          on_result=self.show_result, on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        self._done()
        self._say(False, describe_error(error).message)

    def _done(self) -> None:
        self.running = False
        self.test_button.setEnabled(True)
        self.check_again.setEnabled(True)

    def show_result(self, result: RemoteCheck) -> None:
        self._done()
        self.result = result
        self._show()
        self.finished.emit(result)

    async def confirm_trust(self, fingerprint: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, tr("Trust this certificate?"),
                          tr("Only trust it if you know the server's certificate changed (for example, it was "
                             "renewed). Compare it with the fingerprint the server prints at start:\n\n{fingerprint}"
                             ).format(fingerprint=fingerprint), QMessageBox.StandardButton.Cancel, self)
        trust = box.addButton(tr("Trust"), QMessageBox.ButtonRole.AcceptRole)
        await show_dialog(box)
        return box.clickedButton() is trust

    async def trust(self) -> None:
        result = self.result
        if result is None or result.outcome != "tls" or not result.actual:
            return
        if await self.confirm_trust(result.actual):
            self.trustFingerprint.emit(result.actual)

    # --- showing ---------------------------------------------------------------------------

    def _say(self, ok: bool | None, text: str) -> None:
        color = "" if ok is None else OK_COLOR if ok else ERROR_COLOR
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setText(text)

    def _show(self) -> None:
        result = self.result
        self.tls_box.setVisible(result is not None and result.outcome == "tls")
        self.pairing_box.setVisible(result is not None and result.outcome == "pairing")
        if result is None:
            return
        if result.outcome == "ok":
            version = result.version or tr("unknown")
            self._say(True, tr("Connected: the gateway answered in {ms} ms (version {version}).").format(
                ms=result.latency_ms, version=version))
        elif result.outcome == "auth":
            self._say(False, _auth_text(result))
        elif result.outcome == "tls":
            self._say(False, tr("The server's certificate does not match the pinned fingerprint."))
            self.pinned_value.setText(result.expected or "—")
            self.server_value.setText(result.actual or "—")
        elif result.outcome == "pairing":
            self.status.setStyleSheet(f"color: {WARNING_COLOR};")
            self.status.setText(tr("The gateway answered, but this computer is not approved there yet."))
            self._show_pairing(result)
        elif result.outcome == "unreachable":
            self._say(False, tr("The gateway cannot be reached: {detail}").format(detail=result.detail))
        else:
            self._say(False, tr("The gateway refused the connection: {detail}").format(detail=result.detail))

    def _show_pairing(self, result: RemoteCheck) -> None:
        self.request_label.setText(tr("Pairing request: {id}").format(id=result.request_id or "—"))
        while self.command_rows:
            self.command_rows.pop().deleteLater()
        while self._commands.count():
            item = self._commands.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget not in (self.openclaw_label, self.molt_label):
                widget.deleteLater()
        labels = [self.openclaw_label, self.molt_label]
        for index, command in enumerate(result.commands):
            if index < len(labels):
                self._commands.addWidget(labels[index])
            row = CommandRow(command)
            self.command_rows.append(row)
            self._commands.addWidget(row)

    def retranslate(self) -> None:
        self.test_button.setText(tr("Test"))
        self.test_button.setToolTip(tr("Connect to this gateway with the settings shown and check that it answers"))
        self.trust_button.setText(tr("Trust the server's certificate…"))
        self.pinned_name.setText(tr("Pinned:"))
        self.server_name.setText(tr("Server:"))
        self.tls_text.setText(tr("If you did not change the server's certificate, someone may be intercepting "
                                 "the connection."))
        self.pairing_title.setText(tr("Approve this computer on the server"))
        self.pairing_intro.setText(tr("The gateway only lets in devices its owner approved. Run one of these "
                                      "commands on the server:"))
        self.openclaw_label.setText(tr("On an OpenClaw gateway:"))
        self.molt_label.setText(tr("On a molt-desktop gateway:"))
        self.pairing_after.setText(tr("Then click Check again."))
        self.check_again.setText(tr("Check again"))
        if self.result is not None:
            self._show()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            for button, name in ((self.test_button, "health"), (self.trust_button, "warning"),
                                 (self.check_again, "refresh")):
                button.setIcon(themed_icon(name))
        super().changeEvent(event)


def _auth_text(result: RemoteCheck) -> str:
    if result.code in ("AUTH_TOKEN_MISMATCH", "AUTH_PASSWORD_MISMATCH") or "mismatch" in result.detail:
        return tr("The gateway refused the token: it does not match the gateway's token. Copy the token again "
                  "from the server.")
    if result.code in ("AUTH_TOKEN_MISSING", "AUTH_PASSWORD_MISSING") or "missing" in result.detail:
        return tr("The gateway needs a token. Enter the gateway token of the server.")
    if result.code == "AUTH_RATE_LIMITED":
        return tr("The gateway refused too many attempts; wait a minute, then test again.")
    return tr("The gateway refused this computer's credentials: {detail}").format(detail=result.detail)


def mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(7.0, QGuiApplication.font().pointSizeF() * 0.92))
    return font


def _box(name: str) -> QFrame:
    box = QFrame()
    box.setObjectName(name)
    box.setFrameShape(QFrame.Shape.StyledPanel)
    box.setStyleSheet(f"QFrame#{name} {{ border: 1px solid palette(mid); border-radius: 8px; }}")
    return box


__all__ = ["CommandRow", "RemoteTarget", "RemoteTestPanel"]
