"""The words of an alert: its one-line title and plain-text body, in the current language.

`title(alert, kind)` and `body(alert, kind, now)` say, per rule, what failed, since when (local
time and how long), the last error, and a concrete next step; a resolve says what is back and
how long it was broken. The sinks add only their own framing. Observations never carry secrets,
so nothing here has to hide any. Which condition fires, and when, is decided elsewhere
(rules.py, alerts.py).
"""

from __future__ import annotations

import time

from molt_desktop.i18n import _
from molt_desktop.monitor.model import Alert, NoticeKind

TEST_RULE = "test"
_ERROR_RULES = ("gateway_down", "remote_down", "provider_failing", "sync_stale")  # detail is an error


def duration(seconds: float) -> str:
    """"45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h"."""
    total = max(0, round(seconds))
    if total < 60:
        return _("{seconds} s").format(seconds=total)
    if total < 3600:
        minutes, secs = divmod(total, 60)
        if secs:
            return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=secs)
        return _("{minutes} min").format(minutes=minutes)
    if total < 86400:
        hours, rest = divmod(total, 3600)
        return _("{hours} h {minutes} min").format(hours=hours, minutes=rest // 60)
    days, rest = divmod(total, 86400)
    return _("{days} d {hours} h").format(days=days, hours=rest // 3600)


def local_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _pct(ratio: float | None) -> str:
    return "?" if ratio is None else str(round(ratio * 100))


def _money(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _fire_title(a: Alert) -> str:
    name, rule = a.subject, a.rule
    if rule == "gateway_down":
        return _("The local gateway is down")
    if rule == "remote_down":
        return _("Remote gateway “{name}” is down").format(name=name)
    if rule == "provider_failing":
        return _("Model provider “{name}” is failing ({rate}% of calls)").format(name=name, rate=_pct(a.value))
    if rule == "failover":
        return _("Switched to remote gateway “{name}”").format(name=name)
    if rule == "sync_stale":
        return _("Sync has not succeeded for {duration}").format(duration=duration(a.value or 0))
    if rule == "budget_reached":
        return _("Daily budget of “{name}” reached (${spent} of ${budget})").format(
            name=name, spent=_money(a.value), budget=_money(a.threshold))
    if rule == "cpu_warning":
        return _("CPU use is high ({percent}%)").format(percent=_pct(a.value))
    if rule == "cpu_critical":
        return _("CPU use is critically high ({percent}%)").format(percent=_pct(a.value))
    if rule == "memory_critical":
        return _("Memory use is critically high ({percent}%)").format(percent=_pct(a.value))
    if rule == "disk_low":
        return _("Disk space is low ({percent}% used)").format(percent=_pct(a.value))
    return _("Alert {rule} about “{name}”").format(rule=rule, name=name)


def _resolve_title(a: Alert) -> str:
    name, rule = a.subject, a.rule
    if rule == "gateway_down":
        return _("The local gateway is back up")
    if rule == "remote_down":
        return _("Remote gateway “{name}” is back up").format(name=name)
    if rule == "provider_failing":
        return _("Model provider “{name}” works again").format(name=name)
    if rule == "failover":
        return _("No longer using remote gateway “{name}”").format(name=name)
    if rule == "sync_stale":
        return _("Sync works again")
    if rule == "budget_reached":
        return _("Spending of “{name}” is below its daily budget again").format(name=name)
    if rule == "cpu_warning":
        return _("CPU use is back to normal ({percent}%)").format(percent=_pct(a.value))
    if rule == "cpu_critical":
        return _("CPU use is no longer critically high ({percent}%)").format(percent=_pct(a.value))
    if rule == "memory_critical":
        return _("Memory use is no longer critically high ({percent}%)").format(percent=_pct(a.value))
    if rule == "disk_low":
        return _("Disk space is no longer low ({percent}% used)").format(percent=_pct(a.value))
    return _("Alert {rule} about “{name}” is resolved").format(rule=rule, name=name)


def title(alert: Alert, kind: NoticeKind) -> str:
    """One line: "Remote gateway “server” is down", "CPU use is critically high (97%)"."""
    if kind == "test":
        return _("Test alert from molt-desktop on {host}").format(host=alert.subject)
    if kind == "resolve":
        return _resolve_title(alert)
    if kind == "repeat":
        return _("Still ongoing: {title}").format(title=_fire_title(alert))
    return _fire_title(alert)


def _what(a: Alert) -> str:
    """The first line of a fire body: what is wrong, with the numbers."""
    name, rule = a.subject, a.rule
    if rule == "gateway_down":
        return _("The gateway inside molt-desktop does not answer its health check.")
    if rule == "remote_down":
        return _("The remote gateway “{name}” cannot be reached or does not complete the handshake.").format(
            name=name)
    if rule == "provider_failing":
        return _("{rate}% of the recent calls to model provider “{name}” failed (the alert fires above "
                 "{limit}%).").format(rate=_pct(a.value), name=name, limit=_pct(a.threshold))
    if rule == "failover":
        return _("The local gateway could not serve chats, so molt-desktop now uses the remote gateway "
                 "“{name}”.").format(name=name)
    if rule == "sync_stale":
        return _("The last successful sync was {age} ago; the alert fires when none succeeded for {limit}.").format(
            age=duration(a.value or 0), limit=duration(a.threshold or 0))
    if rule == "budget_reached":
        return _("Today's spending on model provider “{name}” is ${spent}; its daily budget is ${budget}.").format(
            name=name, spent=_money(a.value), budget=_money(a.threshold))
    if rule in ("cpu_warning", "cpu_critical"):
        return _("CPU use is {percent}% (the alert fires at {limit}%).").format(
            percent=_pct(a.value), limit=_pct(a.threshold))
    if rule == "memory_critical":
        return _("Memory use is {percent}% (the alert fires at {limit}%).").format(
            percent=_pct(a.value), limit=_pct(a.threshold))
    if rule == "disk_low":
        return _("The disk that holds the molt-desktop state directory is {percent}% full (the alert fires "
                 "above {limit}%).").format(percent=_pct(a.value), limit=_pct(a.threshold))
    return _("Rule {rule} holds for “{name}”.").format(rule=rule, name=name)


def _next_step(a: Alert) -> str:
    rule = a.rule
    if rule == "gateway_down":
        return _("Look at the log in the Health view, then restart molt-desktop; if another program took "
                 "the gateway's port, choose another one in Settings > Gateway.")
    if rule == "remote_down":
        return _("Check that the server is on and `molt-desktop gateway` or `openclaw gateway` runs there; "
                 "test it in Settings > Remote gateways.")
    if rule == "provider_failing":
        return _("Check the provider's API key, credit and quota in Settings > Providers, and the provider's "
                 "status page; the last error says what the provider answered.")
    if rule == "failover":
        return _("Chats keep working on the remote gateway. Look at the Health view to see why the local "
                 "gateway failed; molt-desktop switches back when it is healthy again (failover.switchBack).")
    if rule == "sync_stale":
        return _("Check that the sync server is reachable and that its login still works: Settings > Sync.")
    if rule == "budget_reached":
        return _("Review today's usage of this provider; if it is expected, raise "
                 "models.providers.{name}.budget.daily in the config.").format(name=a.subject)
    if rule in ("cpu_warning", "cpu_critical"):
        return _("See which programs use the CPU (Task Manager, Activity Monitor or `top`); many agent runs "
                 "at once add up, agents.defaults.maxConcurrent limits them.")
    if rule == "memory_critical":
        return _("See which programs use the memory (Task Manager, Activity Monitor or `top`) and close "
                 "what you do not need.")
    if rule == "disk_low":
        return _("Free space on that disk: remove files you do not need, or move the state directory "
                 "(MOLT_DESKTOP_HOME) to a larger disk. molt-desktop cannot save sessions on a full disk.")
    return _("Look at the Health view of molt-desktop.")


def _error_line(a: Alert) -> str:
    if not a.detail:
        return ""
    if a.rule in _ERROR_RULES:
        return _("Last error: {error}").format(error=a.detail)
    return _("Details: {detail}").format(detail=a.detail)


def body(alert: Alert, kind: NoticeKind, now: float) -> str:
    """Plain text, a few lines: what failed, since when, the last error, what to check."""
    if kind == "test":
        lines = [
            _("This is a test alert sent by molt-desktop on {host} at {time}.").format(
                host=alert.subject, time=local_time(now)),
            _("If you can read this, alerts reach you through this channel."),
        ]
        return "\n".join(lines)
    if kind == "resolve":
        end = alert.resolved_at if alert.resolved_at is not None else now
        lines = [
            _("The problem lasted {duration}: from {start} to {end}.").format(
                duration=duration(end - alert.since), start=local_time(alert.since), end=local_time(end)),
        ]
        if alert.detail and alert.rule in _ERROR_RULES:
            lines.append(_("The last error was: {error}").format(error=alert.detail))
        return "\n".join(lines)
    lines = [
        _what(alert),
        _("Since: {start} ({duration} ago)").format(start=local_time(alert.since),
                                                    duration=duration(now - alert.since)),
    ]
    error = _error_line(alert)
    if error:
        lines.append(error)
    lines.append(_("Next step: {step}").format(step=_next_step(alert)))
    return "\n".join(lines)
