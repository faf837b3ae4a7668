"""A private D-Bus session bus and a notification server on it, for the desktop sink's tests.

`session_bus` (fixture): starts `dbus-daemon` with its own configuration (a socket in a temp
dir, no service directories, so nothing is ever auto-started and the user's own desktop is
never involved) and yields its address; the daemon is stopped afterwards. Tests put the address
into DBUS_SESSION_BUS_ADDRESS with monkeypatch.

`notification_server` (fixture): a `NotificationServer` on that bus. It owns
org.freedesktop.Notifications, answers Notify with increasing ids, GetServerInformation,
GetCapabilities and CloseNotification, and records every Notify call (`calls`). It runs its own
blocking jeepney connection in a thread, so it answers whatever the event loop under test does.
`click(id)` makes it emit ActionInvoked(id, "default") as a server does when the user clicks.

Not here: the tests themselves (test_desktop_sink.py, tests/ui/test_alerts_ui.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import HeaderFields

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class NotifyCall:
    id: int
    app_name: str
    replaces_id: int
    app_icon: str
    summary: str
    body: str
    actions: list[str]
    hints: dict[str, Any]  # name -> value (the variant's signature dropped)
    expire_timeout: int


class PrivateBus:
    """`dbus-daemon` with a private configuration; `address` is what clients connect to."""

    def __init__(self) -> None:
        # A short path: unix socket paths are limited to ~100 bytes, pytest's tmp_path can be longer.
        self.dir = Path(tempfile.mkdtemp(prefix="molt-dbus-"))
        config = self.dir / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.dir / "bus"), encoding="utf-8")
        self.process = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1", "--nopidfile"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip()  # printed once it listens
        if not self.address:
            error = self.process.stderr.read() if self.process.stderr else ""
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {error}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class NotificationServer:
    """The freedesktop Notifications service, recording what it is asked to show."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.calls: list[NotifyCall] = []
        self.closed: list[int] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._outbox: list[Any] = []
        self._stop = threading.Event()
        self.connection: DBusConnection = open_dbus_connection(bus=address)
        reply = self.connection.send_and_get_reply(message_bus.RequestName(NAME, 4), timeout=10)  # 4: do not queue
        if reply.body[0] != 1:  # 1: primary owner
            raise RuntimeError(f"cannot own {NAME}: RequestName answered {reply.body[0]}")
        self.thread = threading.Thread(target=self._serve, name="notification-server", daemon=True)
        self.thread.start()

    def click(self, notification_id: int, action: str = "default") -> None:
        """As if the user clicked the notice (the server broadcasts ActionInvoked)."""
        signal = new_signal(DBusAddress(PATH, interface=NAME), "ActionInvoked", "us", (notification_id, action))
        with self._lock:
            self._outbox.append(signal)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)
        self.connection.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                outbox, self._outbox = self._outbox, []
            for message in outbox:
                self.connection.send(message)
            try:
                message = self.connection.receive(timeout=0.05)
            except TimeoutError:
                continue
            except OSError:
                return
            if message.header.message_type == MessageType.method_call:
                self.connection.send(self._answer(message))

    def _answer(self, call: Any) -> Any:
        member = call.header.fields.get(HeaderFields.member)
        if call.header.fields.get(HeaderFields.interface) not in (NAME, None):
            return new_error(call, "org.freedesktop.DBus.Error.UnknownInterface")
        if member == "Notify":
            app_name, replaces_id, app_icon, summary, body, actions, hints, expire = call.body
            with self._lock:
                notification_id = replaces_id or self._next_id
                self._next_id += 0 if replaces_id else 1
                self.calls.append(NotifyCall(notification_id, app_name, replaces_id, app_icon, summary, body,
                                             list(actions), {k: v[1] for k, v in hints.items()}, expire))
            return new_method_return(call, "u", (notification_id,))
        if member == "GetServerInformation":
            return new_method_return(call, "ssss", ("molt-test-notifications", "molt-desktop tests", "1.0", "1.2"))
        if member == "GetCapabilities":
            return new_method_return(call, "as", (["body", "actions"],))
        if member == "CloseNotification":
            self.closed.append(call.body[0])
            return new_method_return(call)
        return new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no method {member}",))


@pytest.fixture
def session_bus() -> Iterator[str]:
    """The address of a private, empty session bus (no notification server on it)."""
    if shutil.which("dbus-daemon") is None:
        raise RuntimeError("dbus-daemon is needed for these tests (apt install dbus)")
    bus = PrivateBus()
    try:
        yield bus.address
    finally:
        bus.stop()


@pytest.fixture
def notification_server(session_bus: str) -> Iterator[NotificationServer]:
    server = NotificationServer(session_bus)
    try:
        yield server
    finally:
        server.stop()


__all__ = ["NotificationServer", "NotifyCall", "PrivateBus", "notification_server", "session_bus"]
