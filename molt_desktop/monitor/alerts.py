"""The alert manager: each alert's state, the notices it sends, their delivery, and the history.

`AlertManager.observe(obs)` runs the rules (rules.py) on an observation; `tick()` (every second,
from the service) lets "for" durations and repeat intervals pass. An alert is pending while its
condition holds for less than its rule's "for" duration, then firing, then resolved when an
observation says the condition is over (a pending alert that clears just disappears: nobody was
told about it). Each alert sends one "fire" notice, one "resolve" notice if it had fired, and
"repeat" notices only every `repeat_interval` seconds while it keeps firing (0: never).

Flapping: when an alert that resolved less than REFIRE_WINDOW (10 min) ago comes back, it stays
pending for its "for" duration plus HOLD_DOWN (2 min) of the condition holding without a break
before it fires again. A condition that keeps toggling thus sends at most one fire and one
resolve per cycle of several minutes, instead of a notice per probe. Resolves are not delayed:
"it is back" is news people wait for.

Notices go to every subscriber at once (synchronously; the tray and the Health view) and to
every enabled sink as an asyncio task, so `observe` never waits for a network. Each sink gets the
notices in order (a resolve never overtakes its fire) and has `sink_timeout` seconds per notice;
a failure is logged, kept in `sink_status()` and in the history, and never raised.

The history is `<state>/alerts.jsonl`, one JSON object a line: {ts (epoch seconds), event
(fire|resolve|repeat|test|sink_error), key, rule, subject, severity, title, detail} (+ sink for
sink_error). It is 0600, at most `history_limit` lines (older lines are dropped by rewriting the
file atomically), a torn line after a crash is skipped, and a write that fails (full disk) is
logged while the manager goes on. The words of alerts are in texts.py; sinks are in sinks/.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from molt_desktop.fileio import PRIVATE_MODE, atomic_write, ensure_private_dir
from molt_desktop.i18n import _
from molt_desktop.logs import get_logger
from molt_desktop.monitor import texts
from molt_desktop.monitor.model import (
    SEVERITY_ORDER,
    Alert,
    AlertNotice,
    NoticeKind,
    Observation,
    Sink,
    SinkError,
)
from molt_desktop.monitor.rules import Rule

log = get_logger("monitor")

REFIRE_WINDOW = 600.0
HOLD_DOWN = 120.0
SINK_TIMEOUT = 30.0
DISABLED = "disabled"  # send_test's answer for a channel that is off; callers say it in their words


@dataclass(frozen=True)
class SinkStatus:
    """How a sink fared: `ok` None before its first attempt; `last_error` is the error of the last
    attempt (None when it delivered); `failures` counts failed attempts in a row."""

    name: str
    enabled: bool
    ok: bool | None = None
    last_error: str | None = None
    last_attempt_at: float | None = None
    failures: int = 0


class AlertHistory:
    """The bounded JSON-lines history file (None: keep no history)."""

    def __init__(self, path: Path | None, limit: int) -> None:
        self.path = path
        self.limit = max(1, limit)
        self._lines: int | None = None  # counted at the first append

    def append(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            if self._lines is None:
                ensure_private_dir(self.path.parent)
                self._lines = len(self._read_lines())
                if self._ends_torn():
                    line = "\n" + line  # a crash cut the last line: do not glue the new one to it
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
            self._lines += 1
            if self._lines > self.limit:
                self._trim()
        except OSError as exc:
            log.warning("alert history %s not written: %s", self.path, exc)

    def read(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` records, oldest first; unreadable lines are skipped."""
        records: list[dict[str, Any]] = []
        for line in reversed(self._read_lines()):
            if len(records) >= limit:
                break
            record = _parse(line)
            if record is not None:
                records.append(record)
        records.reverse()
        return records

    def _read_lines(self) -> list[str]:
        if self.path is None or not self.path.is_file():  # not a device like /dev/full
            return []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("alert history %s not read: %s", self.path, exc)
            return []
        return [line for line in text.splitlines() if line.strip()]

    def _ends_torn(self) -> bool:
        assert self.path is not None
        if not self.path.is_file():
            return False
        with self.path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"

    def _trim(self) -> None:
        assert self.path is not None
        kept = [line for line in self._read_lines() if _parse(line) is not None][-self.limit:]
        atomic_write(self.path, "".join(line + "\n" for line in kept))
        self._lines = len(kept)


def _parse(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


class AlertManager:
    """Turns observations into alerts and alerts into notices (see the module docstring)."""

    def __init__(
        self,
        rules: Iterable[Rule],
        sinks: Iterable[Sink],
        *,
        history_path: Path | None,
        repeat_interval: float = 3600.0,
        host: str = "",
        clock: Callable[[], float] = time.time,
        history_limit: int = 2000,
        sink_timeout: float = SINK_TIMEOUT,
    ) -> None:
        self.host = host or socket.gethostname()
        self.repeat_interval = repeat_interval
        self.sink_timeout = sink_timeout
        self._clock = clock
        self._rules: dict[str, Rule] = {}
        self._sinks: list[Sink] = []
        self._status: dict[str, SinkStatus] = {}
        self._active: dict[str, Alert] = {}
        self._resolved_at: dict[str, float] = {}  # key -> when it last resolved after firing
        self._subscribers: list[Callable[[AlertNotice], None]] = []
        self._sink_subscribers: list[Callable[[SinkStatus], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_delivery: dict[str, asyncio.Task[None]] = {}  # sink name -> its newest delivery
        self._stopped = False
        self._history = AlertHistory(history_path, history_limit)
        self.set_rules(rules)
        self.set_sinks(sinks)

    # --- configuration -----------------------------------------------------------------------

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Use `rules` from now on; alerts of rules that are gone are dropped without a notice."""
        self._rules = {rule.id: rule for rule in rules}
        for key, alert in list(self._active.items()):
            rule = self._rules.get(alert.rule)
            if rule is None:
                del self._active[key]
                log.info("alert %s dropped: its rule is off", key)
            else:
                alert.severity = rule.severity

    @property
    def sinks(self) -> list[Sink]:
        return list(self._sinks)

    def set_sinks(self, sinks: Iterable[Sink]) -> None:
        self._sinks = list(sinks)
        old = self._status
        self._status = {}
        for sink in self._sinks:
            previous = old.get(sink.name)
            status = replace(previous, enabled=sink.enabled) if previous else SinkStatus(sink.name, sink.enabled)
            self._status[sink.name] = status
            if status != previous:
                self._tell_sink_subscribers(status)

    # --- observations and time ---------------------------------------------------------------

    def observe(self, obs: Observation) -> None:
        """Run the rules that read `obs`; may fire or resolve alerts (deliveries run as tasks)."""
        now = self._clock()
        for rule in list(self._rules.values()):
            if not rule.reads(obs.check):
                continue
            try:
                result = rule.evaluate(obs)
            except Exception:  # a rule must not stop the others or the probe that called us
                log.exception("alert rule %s failed on %s", rule.id, obs.check)
                continue
            if result is None:
                continue
            key = f"{rule.id}:{obs.subject}"
            if rule.one_subject:
                for other in [a for a in self._active.values() if a.rule == rule.id and a.key != key]:
                    self._clear(other, now)
            alert = self._active.get(key)
            if result.active:
                if alert is None:
                    alert = Alert(key, rule.id, obs.subject, rule.severity, "pending", since=now)
                    self._active[key] = alert
                alert.value, alert.threshold = result.value, result.threshold
                if result.detail:
                    alert.detail = result.detail
                self._advance(alert, rule, now)
            elif alert is not None:
                if result.value is not None:
                    alert.value = result.value
                self._clear(alert, now)

    def tick(self) -> None:
        """Let time pass: pending alerts whose "for" duration is over fire, firing ones repeat."""
        now = self._clock()
        for alert in list(self._active.values()):
            rule = self._rules.get(alert.rule)
            if rule is not None:
                self._advance(alert, rule, now)
        for key, at in list(self._resolved_at.items()):
            if now - at >= REFIRE_WINDOW:
                del self._resolved_at[key]

    def _advance(self, alert: Alert, rule: Rule, now: float) -> None:
        if alert.state == "pending":
            needed = rule.for_seconds
            resolved = self._resolved_at.get(alert.key)
            if resolved is not None and alert.since - resolved < REFIRE_WINDOW:
                needed += HOLD_DOWN
            if now - alert.since >= needed:
                alert.state, alert.fired_at, alert.notified_at = "firing", now, now
                self._notify("fire", alert, now)
                return
        elif (self.repeat_interval > 0 and alert.notified_at is not None
              and now - alert.notified_at >= self.repeat_interval):
            alert.notified_at = now
            self._notify("repeat", alert, now)
            return
        alert.title, alert.body = texts.title(alert, "fire"), texts.body(alert, "fire", now)

    def _clear(self, alert: Alert, now: float) -> None:
        del self._active[alert.key]
        if alert.state != "firing":
            log.debug("pending alert %s cleared before it fired", alert.key)
            return
        alert.state, alert.resolved_at = "resolved", now
        self._resolved_at[alert.key] = now
        self._notify("resolve", alert, now)

    # --- what is going on --------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Pending and firing alerts (copies), the worst first."""
        return sorted((replace(a) for a in self._active.values()), key=_worst_first)

    def firing(self) -> list[Alert]:
        return [a for a in self.alerts() if a.state == "firing"]

    def worst(self) -> Alert | None:
        """The firing alert of the highest severity (the longest-firing one among equals)."""
        firing = self.firing()
        return firing[0] if firing else None

    def history(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest `limit` history records, oldest first (as the file has them)."""
        return self._history.read(limit)

    def sink_status(self) -> list[SinkStatus]:
        return [replace(self._status[s.name], enabled=s.enabled) for s in self._sinks if s.name in self._status]

    def subscribe(self, callback: Callable[[AlertNotice], None]) -> Callable[[], None]:
        """`callback` gets every notice (fire, resolve, repeat, test) as it is made."""
        return _add(self._subscribers, callback)

    def subscribe_sinks(self, callback: Callable[[SinkStatus], None]) -> Callable[[], None]:
        """`callback` gets a sink's status whenever it changes."""
        return _add(self._sink_subscribers, callback)

    # --- notices -----------------------------------------------------------------------------

    def _notify(self, kind: NoticeKind, alert: Alert, now: float) -> None:
        alert.title, alert.body = texts.title(alert, kind), texts.body(alert, kind, now)
        notice = AlertNotice(kind, replace(alert), self.host)  # a copy: later changes do not reach the sinks
        level = logging.INFO if kind == "resolve" or alert.severity == "info" else logging.WARNING
        log.log(level, "alert %s %s: %s", alert.key, kind, alert.title)
        self._record(kind, notice.alert, now)
        self._tell_subscribers(notice)
        self._deliver_all(notice)

    def _record(self, event: str, alert: Alert, now: float, **extra: Any) -> None:
        self._history.append({"ts": round(now, 3), "event": event, "key": alert.key, "rule": alert.rule,
                              "subject": alert.subject, "severity": alert.severity, "title": alert.title,
                              "detail": alert.detail, **extra})

    def _tell_subscribers(self, notice: AlertNotice) -> None:
        for callback in list(self._subscribers):
            try:
                callback(notice)
            except Exception:  # a broken view must not stop the alerts
                log.exception("an alert subscriber failed on %s", notice.alert.key)

    def _tell_sink_subscribers(self, status: SinkStatus) -> None:
        for callback in list(self._sink_subscribers):
            try:
                callback(status)
            except Exception:
                log.exception("a sink status subscriber failed on %s", status.name)

    def _deliver_all(self, notice: AlertNotice) -> None:
        if self._stopped:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("alert %s not sent to the sinks: no event loop runs", notice.alert.key)
            return
        for sink in self._sinks:
            if not sink.enabled:
                continue
            task = loop.create_task(self._deliver(sink, notice, self._last_delivery.get(sink.name)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self._last_delivery[sink.name] = task

    async def _deliver(self, sink: Sink, notice: AlertNotice, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})  # keeps this sink's notices in order
        error = await self._send(sink, notice)
        self._sink_done(sink, notice, error)

    async def _send(self, sink: Sink, notice: AlertNotice) -> str | None:
        """Deliver one notice through one sink: None, or why it failed."""
        try:
            async with asyncio.timeout(self.sink_timeout) as deadline:
                await sink.send(notice)
        except SinkError as exc:
            return str(exc) or _("The {sink} channel failed without saying why.").format(sink=sink.name)
        except TimeoutError:
            if deadline.expired():
                return _("The {sink} channel did not deliver within {seconds} seconds.").format(
                    sink=sink.name, seconds=f"{self.sink_timeout:g}")
            return _("The {sink} channel timed out.").format(sink=sink.name)
        except Exception as exc:  # a sink's bug is its failure, not the app's
            log.exception("alert sink %s raised instead of reporting a SinkError", sink.name)
            return _("The {sink} channel failed: {error}").format(sink=sink.name, error=f"{type(exc).__name__}: {exc}")
        return None

    def _sink_done(self, sink: Sink, notice: AlertNotice, error: str | None) -> None:
        now = self._clock()
        previous = self._status.get(sink.name)
        failures = 0 if error is None else (previous.failures if previous else 0) + 1
        status = SinkStatus(sink.name, sink.enabled, error is None, error, now, failures)
        if sink.name in self._status:  # not a sink that set_sinks removed meanwhile
            self._status[sink.name] = status
        if error is not None:
            log.warning("alert sink %s could not deliver the %s notice of %s: %s",
                        sink.name, notice.kind, notice.alert.key, error)
            self._record("sink_error", replace(notice.alert, detail=error), now, sink=sink.name)
        self._tell_sink_subscribers(status)

    async def send_test(self, channel: str | None = None) -> dict[str, str | None]:
        """Send a test alert through the enabled sinks (or only `channel`): {sink name: None or error}.

        A `channel` that is configured off answers DISABLED ("disabled") and is not tried."""
        now = self._clock()
        if channel is None:
            targets = [s for s in self._sinks if s.enabled]
        else:
            found = [s for s in self._sinks if s.name == channel]
            if not found:
                return {channel: _("There is no {channel} channel here.").format(channel=channel)}
            if not found[0].enabled:
                return {channel: DISABLED}
            targets = found
        alert = Alert(f"test:{self.host}", texts.TEST_RULE, self.host, "info", "firing", since=now,
                      fired_at=now, notified_at=now)
        alert.title, alert.body = texts.title(alert, "test"), texts.body(alert, "test", now)
        notice = AlertNotice("test", alert, self.host)
        self._record("test", alert, now, channels=[s.name for s in targets])
        self._tell_subscribers(notice)
        errors = await asyncio.gather(*(self._send(sink, notice) for sink in targets))
        for sink, error in zip(targets, errors):
            self._sink_done(sink, notice, error)
        return {sink.name: error for sink, error in zip(targets, errors)}

    async def flush(self) -> None:
        """Wait until every delivery started so far has ended (delivered, failed or timed out)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self) -> None:
        """Cancel the deliveries under way; notices made after this reach subscribers only."""
        self._stopped = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _worst_first(alert: Alert) -> tuple[int, int, float]:
    return (0 if alert.state == "firing" else 1, -SEVERITY_ORDER.get(alert.severity, 0), alert.since)


def _add(callbacks: list[Any], callback: Any) -> Callable[[], None]:
    callbacks.append(callback)

    def unsubscribe() -> None:
        if callback in callbacks:
            callbacks.remove(callback)

    return unsubscribe
