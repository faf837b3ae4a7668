"""The desktop sink: an alert as the platform's own notification.

`DesktopSink(config, fallback=None, on_click=None)` shows a notice with the alert's title and
body (already in the UI language). Where it goes:
- Linux and other freedesktop desktops (a session bus in `DBUS_SESSION_BUS_ADDRESS`): the
  `org.freedesktop.Notifications` service, called directly with jeepney. Its `Notify` answers
  with an id, which is the proof that a notification server took the notice; plyer is not used
  here because it shells out to `notify-send` and reports success when nothing was shown.
  Critical alerts carry the urgency hint 2. With `on_click`, the notice has a "default" action
  and a click on it (the server's `ActionInvoked` signal) calls `on_click`.
- Windows and macOS: plyer, in a worker thread (its calls block).
When that fails (no session bus, no notification server, plyer raising) the `fallback(title,
body, severity)` given by the app (the tray's message balloon) is tried; `send` succeeds when it
returns True and raises SinkError otherwise.

Not here: which alerts are sent when (alerts.py), the tray's icon (ui/tray.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

from molt_desktop.config.schema import DesktopAlertConfig
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.monitor.model import AlertNotice, SinkError

log = get_logger("monitor")

APP_NAME = "molt-desktop"
BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
DBUS_TIMEOUT = 10.0  # a notification server answers in milliseconds; a hung one must not hold the sink
EXPIRE_DEFAULT = -1  # the server decides how long a notice stays
URGENCY = {"info": 0, "warning": 1, "critical": 2}  # freedesktop urgency levels: low, normal, critical

Fallback = Callable[[str, str, str], bool]


def notice_title(notice: AlertNotice) -> str:
    """The notification's one line: the alert's title, which already says fired, resolved or
    still ongoing (texts.py words it per notice kind)."""
    return notice.alert.title or notice.alert.key


def notice_severity(notice: AlertNotice) -> str:
    """A resolved alert is good news, whatever its severity was."""
    return "info" if notice.kind == "resolve" else str(notice.alert.severity)


class DesktopSink:
    name = "desktop"

    def __init__(self, config: DesktopAlertConfig, fallback: Fallback | None = None, *,
                 on_click: Callable[[], None] | None = None) -> None:
        self.config = config
        self.fallback = fallback
        self.on_click = on_click

    @property
    def enabled(self) -> bool:
        return bool(self.config.enabled)

    async def send(self, notice: AlertNotice) -> None:
        title = notice_title(notice)
        body = notice.alert.body
        severity = notice_severity(notice)
        try:
            await self._native(title, body, severity)
            return
        except SinkError as exc:
            why = str(exc)
        if self.fallback is not None:
            try:
                shown = bool(self.fallback(title, body, severity))
            except Exception as exc:  # the fallback is the app's code: its failure is this sink's failure
                log.warning("desktop notification fallback failed: %s", exc)
                shown = False
            if shown:
                log.info("desktop notification shown by the app instead (%s)", why)
                return
            raise SinkError(_("{reason} The app could not show the alert either.").format(reason=why))
        raise SinkError(why)

    async def close(self) -> None:
        """Stop listening for clicks (the app calls it on quit; a later notice listens again)."""
        await _ClickListener.close_all()

    # --- the platform's notification ----------------------------------------------------------

    async def _native(self, title: str, body: str, severity: str) -> None:
        if sys.platform in ("win32", "darwin"):
            await self._plyer(title, body)
            return
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            raise SinkError(_("No notification service on this desktop (no D-Bus session bus)."))
        await self._dbus(title, body, severity)

    async def _plyer(self, title: str, body: str) -> None:
        def notify() -> None:
            from plyer import notification  # type: ignore[import-untyped]

            notification.notify(title=title, message=body, app_name=APP_NAME, timeout=10)

        try:
            await asyncio.to_thread(notify)
        except Exception as exc:
            log.info("plyer could not show a notification: %r", exc)
            raise SinkError(_("No notification service on this desktop ({error}).").format(
                error=str(exc) or type(exc).__name__)) from exc

    async def _dbus(self, title: str, body: str, severity: str) -> None:
        try:
            if self.on_click is not None:
                reply = await asyncio.wait_for(self._notify_listening(title, body, severity), DBUS_TIMEOUT)
            else:
                reply = await asyncio.wait_for(_notify_once(title, body, severity), DBUS_TIMEOUT)
        except SinkError:
            raise
        except asyncio.TimeoutError as exc:
            raise SinkError(_("The desktop's notification service did not answer within {seconds} seconds.").format(
                seconds=round(DBUS_TIMEOUT))) from exc
        except Exception as exc:  # no bus at that address, refused, a malformed address...
            log.info("cannot reach the D-Bus session bus: %r", exc)
            raise SinkError(_("No notification service on this desktop (the D-Bus session bus is not reachable: "
                              "{error}).").format(error=str(exc) or type(exc).__name__)) from exc
        log.info("desktop notification %s delivered (id %s)", title, reply)

    async def _notify_listening(self, title: str, body: str, severity: str) -> int:
        assert self.on_click is not None
        listener = await _ClickListener.get()
        try:
            return await listener.notify(title, body, severity, self.on_click)
        except SinkError:
            raise
        except BaseException:  # a broken link (or a timeout): the next notice opens a new one
            await listener.close()
            raise


# --- D-Bus ------------------------------------------------------------------------------------


def _notify_message(title: str, body: str, severity: str, actions: list[str]) -> Any:
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]

    address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=INTERFACE)
    hints = {"urgency": ("y", URGENCY.get(severity, 1)), "desktop-entry": ("s", APP_NAME)}
    return new_method_call(address, "Notify", "susssasa{sv}i",
                           (APP_NAME, 0, "", title, body, actions, hints, EXPIRE_DEFAULT))


def _notification_id(reply: Any) -> int:
    """The id from Notify's reply, or SinkError saying why there is none."""
    from jeepney import MessageType

    if reply.header.message_type == MessageType.error:
        error = str(reply.header.fields.get(_error_name_field(), ""))
        detail = reply.body[0] if reply.body else ""
        if error in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            raise SinkError(_("No notification service on this desktop (nothing answers for {service} on the "
                              "session bus).").format(service=BUS_NAME))
        raise SinkError(_("The desktop's notification service refused the alert: {error}").format(
            error=f"{error} {detail}".strip()))
    if not reply.body or not isinstance(reply.body[0], int) or reply.body[0] <= 0:
        raise SinkError(_("The desktop's notification service did not confirm the alert."))
    return int(reply.body[0])


def _error_name_field() -> Any:
    from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]

    return HeaderFields.error_name


async def _notify_once(title: str, body: str, severity: str) -> int:
    from jeepney.io.asyncio import open_dbus_router  # type: ignore[import-untyped]

    async with open_dbus_router(bus="SESSION") as router:
        reply = await router.send_and_get_reply(_notify_message(title, body, severity, []))
    return _notification_id(reply)


class _ClickListener:
    """One lasting session-bus connection per bus and event loop, shared by the desktop sinks
    (the monitor builds new sinks on every config change; they must not each keep one open).
    It sends notices with a "default" action and calls the sender's `on_click` when the server
    reports that action on one of them."""

    _open: dict[tuple[str, int], _ClickListener] = {}

    def __init__(self, key: tuple[str, int], router: Any, context: Any) -> None:
        self.key = key
        self.router = router
        self.context = context
        self.handlers: dict[int, Callable[[], None]] = {}
        self.closed = False
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.filter: Any = None
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def get(cls) -> _ClickListener:
        key = (os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""), id(asyncio.get_running_loop()))
        listener = cls._open.get(key)
        if listener is not None and not listener.closed and listener.task is not None and not listener.task.done():
            return listener
        from jeepney import MatchRule, message_bus
        from jeepney.io.asyncio import Proxy, open_dbus_router

        context = open_dbus_router(bus="SESSION")
        router = await context.__aenter__()
        listener = cls(key, router, context)
        try:
            rule = MatchRule(type="signal", interface=INTERFACE, member="ActionInvoked", path=OBJECT_PATH)
            await Proxy(message_bus, router).AddMatch(rule)
            listener.filter = router.filter(rule, queue=listener.queue, bufsize=64)
            listener.task = asyncio.get_running_loop().create_task(listener._listen(), name="desktop-sink-clicks")
        except BaseException:
            await context.__aexit__(None, None, None)
            raise
        cls._open[key] = listener
        return listener

    @classmethod
    async def close_all(cls) -> None:
        for listener in list(cls._open.values()):
            await listener.close()

    async def notify(self, title: str, body: str, severity: str, on_click: Callable[[], None]) -> int:
        reply = await self.router.send_and_get_reply(_notify_message(title, body, severity, ["default", ""]))
        notification = _notification_id(reply)
        self.handlers[notification] = on_click
        if len(self.handlers) > 200:  # servers forget old notices too; keep the newest
            for old in sorted(self.handlers)[:-200]:
                del self.handlers[old]
        return notification

    async def _listen(self) -> None:
        try:
            while True:
                signal = await self.queue.get()
                notification, action = signal.body
                handler = self.handlers.get(notification)
                if handler is not None and action == "default":
                    log.info("desktop notification %s clicked", notification)
                    try:
                        handler()
                    except Exception:
                        log.exception("the notification click handler failed")
        except asyncio.CancelledError:
            pass

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._open.get(self.key) is self:
            del self._open[self.key]
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.filter is not None:
            self.filter.close()
        try:
            await self.context.__aexit__(None, None, None)
        except Exception as exc:  # the bus went away first: nothing left to close
            log.debug("closing the notification click listener: %r", exc)


__all__ = ["DesktopSink", "notice_severity", "notice_title"]
