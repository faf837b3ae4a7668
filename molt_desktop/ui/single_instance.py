"""One desktop app per state dir, and the messages later launches send it.

The running app holds `<state>/molt-desktop.lock` (a QLockFile, stale only when its process is
gone) and listens on a QLocalServer named after the user and the state dir (a named pipe on
Windows, a socket on Unix; only this user may connect). A message is one line:
- `show`: another launch of the app; the running one opens its chat window;
- `quit`: `molt-desktop --quit` (the Windows installer, before it replaces the files); the running
  one quits as from its tray menu, stopping the gateway and flushing the sessions.
"""

from __future__ import annotations

import getpass
import hashlib
import sys
import time
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from molt_desktop.logs import get_logger

log = get_logger("ui")

SHOW_MESSAGE = b"show\n"
QUIT_MESSAGE = b"quit\n"


class SingleInstance(QObject):
    """One running app per state dir; later launches hand over to it."""

    showRequested = Signal()
    quitRequested = Signal()

    def __init__(self, state: Path) -> None:
        super().__init__()
        key = hashlib.sha256(str(state.resolve()).encode("utf-8")).hexdigest()[:16]
        try:
            user = getpass.getuser()
        except Exception:  # no user name in this environment: the state dir alone decides
            user = "user"
        self.name = f"molt-desktop-{hashlib.sha256(user.encode()).hexdigest()[:8]}-{key}"
        state.mkdir(parents=True, exist_ok=True)
        self._lock = QLockFile(str(state / "molt-desktop.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        return bool(self._lock.tryLock(100))

    def forward(self, timeout: float = 5.0, message: bytes = SHOW_MESSAGE) -> bool:
        """Send `message` to the running instance (it may still be starting: retry)."""
        deadline = time.monotonic() + timeout
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(300):
                socket.write(message)
                socket.flush()
                if socket.bytesToWrite():
                    socket.waitForBytesWritten(1000)
                sent = socket.bytesToWrite() == 0
                socket.disconnectFromServer()
                return sent
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def listen(self) -> bool:
        QLocalServer.removeServer(self.name)  # a socket file left by a crash (we hold the lock)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        if not self._server.listen(self.name):
            log.warning("single-instance server not available: %s", self._server.errorString())
            return False
        return True

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if b"quit" in data:
            log.info("another process asked the app to quit")
            self.quitRequested.emit()
        elif b"show" in data:
            log.info("another launch asked to show the chat window")
            self.showRequested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
        self._lock.unlock()


class QuitResult(Enum):
    NOT_RUNNING = "not running"
    QUIT = "quit"
    NO_ANSWER = "no answer"   # holds the lock but takes no messages (hung, or still starting up)
    TIMEOUT = "timeout"       # took the message but was still running at the deadline


def quit_running(state: Path, timeout: float = 30.0) -> QuitResult:
    """Ask the app running with `state` to quit and wait until it has (its lock is free)."""
    # Local sockets need an application object; a core one needs no display.
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    instance = SingleInstance(state)
    if instance.acquire():
        instance.release()
        return QuitResult.NOT_RUNNING
    if not instance.forward(min(timeout, 10.0), QUIT_MESSAGE):
        return QuitResult.NO_ANSWER
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if instance.acquire():
            instance.release()
            return QuitResult.QUIT
    return QuitResult.TIMEOUT


__all__ = ["QUIT_MESSAGE", "SHOW_MESSAGE", "QuitResult", "SingleInstance", "quit_running"]
