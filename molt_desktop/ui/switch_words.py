"""How the UI says which gateway is in use and why: the chat banner, the tray and its balloons.

The pool reports a switch as a SwitchEvent (from_id, from_kind, to_id, to_kind, url, reason code,
message, at) and keeps the reason in PoolStatus.reason (its own, already translated words). The
sentences here are built from the reason *code* with tr(), so they follow a live language
switch; the pool's message is the fallback for a code this module does not know.

Not here: the widgets that show these texts (chat_banner.py, tray.py, health_view.py).
"""

from __future__ import annotations

from typing import Any

from molt_desktop.ui.i18n import tr


def active_switch(status: Any, last_switch: Any) -> Any:
    """The last switch if it led to the endpoint `status` is on, else None."""
    if last_switch is None or status is None:
        return None
    if getattr(last_switch, "to_id", None) != getattr(status, "endpoint_id", None):
        return None
    return last_switch


def remote_sentence(name: str, url: str, reason: str | None, fallback: str | None = None) -> str:
    """The chat banner's sentence: which server gateway is in use, its address, and why."""
    if reason == "unreachable":
        return tr("Using the server gateway “{name}” ({url}): the local gateway is unreachable.").format(
            name=name, url=url)
    if reason == "unresponsive":
        return tr("Using the server gateway “{name}” ({url}): the local gateway does not respond.").format(
            name=name, url=url)
    if reason == "provider":
        return tr("Using the server gateway “{name}” ({url}): the local model provider keeps failing.").format(
            name=name, url=url)
    if fallback:
        return tr("{reason} ({url})").format(reason=fallback.rstrip("."), url=url)
    return tr("Using the server gateway “{name}” ({url}).").format(name=name, url=url)


def remote_reason(name: str, reason: str | None, fallback: str | None = None) -> str:
    """The tray's shorter sentence (no address): "Using the server gateway “x”: the local … ."."""
    if reason == "unreachable":
        return tr("Using the server gateway “{name}”: the local gateway is unreachable.").format(name=name)
    if reason == "unresponsive":
        return tr("Using the server gateway “{name}”: the local gateway does not respond.").format(name=name)
    if reason == "provider":
        return tr("Using the server gateway “{name}”: the local model provider keeps failing.").format(name=name)
    if fallback:
        return fallback if fallback.endswith(".") else fallback + "."
    return tr("Using the server gateway “{name}”.").format(name=name)


def status_reason(status: Any, last_switch: Any) -> tuple[str | None, str | None]:
    """(reason code, pool's own words) for the endpoint `status` is on."""
    event = active_switch(status, last_switch)
    code = None
    if event is not None and getattr(event, "reason", None):
        code = str(event.reason)
    words = getattr(status, "reason", None) or (getattr(event, "message", None) if event is not None else None)
    return code, (str(words) if words else None)


def switch_balloon(event: Any) -> tuple[str, str] | None:
    """(title, text) of the tray message for a switch, or None when it is not worth one."""
    to_kind = getattr(event, "to_kind", None)
    from_kind = getattr(event, "from_kind", None)
    name = str(getattr(event, "to_id", "") or "")
    if to_kind == "remote":
        return (tr("Switched to the server gateway"),
                remote_reason(name, getattr(event, "reason", None), getattr(event, "message", None)))
    if to_kind == "local" and from_kind == "remote":
        return (tr("Back on the local gateway"),
                tr("The local gateway works again; new messages go to it."))
    return None


__all__ = ["active_switch", "remote_reason", "remote_sentence", "status_reason", "switch_balloon"]
