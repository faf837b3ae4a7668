"""The alert manager of the health monitor, seen from Qt.

`AlertsBridge(manager, parent)` subscribes to the monitor's `AlertManager` (monitor/alerts.py)
and re-emits what it reports as Qt signals: `notice(AlertNotice)` for every fire, resolve,
repeat and test, `sinkStatus(SinkStatus)` after each delivery attempt of a channel, and
`changed()` after either. It reads the manager's current state for the widgets (`alerts()`,
`worst()`, `history()`, `sink_status()`) and runs a channel's test (`await test(channel)`).
The app creates it with the GatewayBridge as its parent, so the tray, the health view and the
settings find it with `AlertsBridge.of(bridge)` (None when the app runs without a monitor).
The manager calls back on the asyncio loop, which qasync runs on the GUI thread.

Not here: the alert states and deliveries (monitor/), how they are shown (tray.py,
health_alerts.py, settings_sync_alerts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from molt_desktop.logs import get_logger
from molt_desktop.monitor.model import SEVERITY_ORDER

log = get_logger("ui")

CHANNELS = ("desktop", "email", "webhook")


class AlertsBridge(QObject):
    notice = Signal(object)  # AlertNotice
    sinkStatus = Signal(object)  # SinkStatus of one channel
    changed = Signal()  # alerts or channels changed

    def __init__(self, manager: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertsBridge")
        self.manager = manager
        self._unsubscribe: list[Callable[[], None]] = [manager.subscribe(self._on_notice),
                                                       manager.subscribe_sinks(self._on_sink)]

    @classmethod
    def of(cls, bridge: QObject | None) -> AlertsBridge | None:
        """The alerts bridge the app attached to `bridge` (its parent), if any."""
        if bridge is None:
            return None
        found = bridge.findChild(cls, "alertsBridge")
        return found if isinstance(found, cls) else None

    # --- state, as the manager has it now -----------------------------------------------------

    def alerts(self) -> list[Any]:
        return list(self.manager.alerts())

    def firing(self) -> list[Any]:
        return [a for a in self.manager.alerts() if getattr(a, "state", "") == "firing"]

    def worst(self) -> Any:
        """The most severe firing alert (pending ones have not been announced), or None."""
        firing = self.firing()
        if not firing:
            return None
        return max(firing, key=lambda a: (SEVERITY_ORDER.get(str(a.severity), 0), -(a.fired_at or a.since or 0.0)))

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        try:
            return list(self.manager.history(limit))
        except Exception as exc:  # the history file is a report: its trouble never breaks a window
            log.warning("cannot read the alert history: %s", exc)
            return []

    def sink_status(self) -> list[Any]:
        return list(self.manager.sink_status())

    async def test(self, channel: str) -> str | None:
        """Send a test alert through `channel`: None when delivered, else why not ("disabled" when off)."""
        results = await self.manager.send_test(channel)
        if channel not in results:
            return "disabled"
        return results[channel]

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    # --- from the manager ---------------------------------------------------------------------

    def _on_notice(self, notice: Any) -> None:
        self.notice.emit(notice)
        self.changed.emit()

    def _on_sink(self, status: Any) -> None:
        self.sinkStatus.emit(status)
        self.changed.emit()


__all__ = ["CHANNELS", "AlertsBridge"]
