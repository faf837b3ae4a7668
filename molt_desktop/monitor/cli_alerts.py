"""`molt-desktop alerts test [--channel C]` and `molt-desktop alerts list`.

`test` sends a test alert through the enabled channels of this state dir's config (or the one
named) and says for each whether it was delivered; exit 0 only when every enabled channel
delivered. The desktop channel counts where this machine has a desktop session (a server has
none; `--channel desktop` tries anyway). `list` shows what is firing now and the recent history
from `<state>/alerts.jsonl`.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from molt_desktop import paths
from molt_desktop.config.manager import ConfigManager
from molt_desktop.i18n import _
from molt_desktop.monitor.alerts import DISABLED, AlertManager
from molt_desktop.monitor.model import Sink
from molt_desktop.monitor.service import build_sinks

EXIT_OK, EXIT_FAIL = 0, 1


def has_desktop_session() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY"))


def _manager(state: Path, *, desktop: bool) -> tuple[AlertManager, list[Sink]]:
    config = ConfigManager(paths.config_path(state)).current.config
    sinks = build_sinks(config, desktop=desktop)
    return AlertManager([], sinks, history_path=state / "alerts.jsonl", host=socket.gethostname()), sinks


def run_alerts_test(state: Path, channel: str | None, *, as_json: bool = False) -> int:
    manager, sinks = _manager(state, desktop=channel == "desktop" or has_desktop_session())

    async def send() -> dict[str, str | None]:
        try:
            return await manager.send_test(channel)
        finally:
            await manager.stop()

    outcome = asyncio.run(send())
    for sink in sinks:
        if channel in (None, sink.name):
            outcome.setdefault(sink.name, DISABLED)
    enabled = {name: error for name, error in outcome.items() if error != DISABLED}
    ok = bool(enabled) and all(error is None for error in enabled.values())
    if as_json:
        print(json.dumps({"ok": ok, "channels": {name: {"delivered": error is None,
                                                       "enabled": error != DISABLED, "error": error}
                                                for name, error in outcome.items()}}, ensure_ascii=False))
        return EXIT_OK if ok else EXIT_FAIL
    for name, error in outcome.items():
        if error == DISABLED:
            print(_("{channel}: disabled").format(channel=name))
        elif error is None:
            print(_("{channel}: delivered").format(channel=name))
        else:
            print(_("{channel}: failed: {error}").format(channel=name, error=error))
    if not enabled:
        print(_("No alert channel is enabled: turn one on under alerts.desktop, alerts.email or alerts.webhook "
                "in {path}.").format(path=paths.config_path(state)), file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAIL


def firing_now(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts whose last fire has no resolve after it."""
    last: dict[str, dict[str, Any]] = {}
    for record in history:
        if record.get("event") in ("fire", "repeat", "resolve") and isinstance(record.get("key"), str):
            last[record["key"]] = record
    return [r for r in last.values() if r.get("event") in ("fire", "repeat")]


def run_alerts_list(state: Path, *, limit: int = 50, as_json: bool = False) -> int:
    manager = AlertManager([], [], history_path=state / "alerts.jsonl")
    history = manager.history(limit=2000)
    firing = firing_now(history)
    recent = history[-limit:] if limit > 0 else []
    if as_json:
        print(json.dumps({"firing": firing, "history": recent}, ensure_ascii=False))
        return EXIT_OK
    print(_("Firing now: {count}").format(count=len(firing)))
    for record in firing:
        print(f"  [{record.get('severity', '')}] {record.get('title', record.get('key', ''))}")
    print(_("Recent alerts:"))
    if not recent:
        print("  " + _("none"))
    for record in recent:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(record.get("ts") or 0)))
        print(f"  {when}  {record.get('event', ''):<10} {record.get('title') or record.get('key', '')}")
    return EXIT_OK
