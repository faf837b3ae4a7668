"""Rate limiting of failed connect authentications, per remote address.

After `max_failures` failed credential checks within `window_s`, an address is locked out for
`lockout_s`: every connect from it gets `AUTH_RATE_LIMITED` (retryable, with `retryAfterMs`)
until the lockout ends. A successful authentication clears the address's record. Unlike
OpenClaw, loopback is not exempt: a local process guessing the token is throttled too.
Here: `AuthRateLimiter`. Not here: what counts as a failure (gateway/auth.py).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from molt_desktop.clock import monotonic

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_S = 60.0
DEFAULT_LOCKOUT_S = 300.0
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    remaining: int
    retry_after_ms: int  # 0 when allowed


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float | None = None


def normalize_address(address: str | None) -> str:
    """One key per client: IPv4-mapped IPv6 is IPv4, zone ids and brackets dropped, lowercased."""
    if not address:
        return "unknown"
    text = address.strip().strip("[]")
    if "%" in text:
        text = text.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class AuthRateLimiter:
    """Sliding-window failure counter with lockout; thread-safe; `clock` returns seconds."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        lockout_s: float = DEFAULT_LOCKOUT_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.max_failures = max(1, max_failures)
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _slide(self, entry: _Entry, now: float) -> None:
        cutoff = now - self.window_s
        while entry.failures and entry.failures[0] <= cutoff:
            entry.failures.popleft()

    def check(self, address: str | None) -> RateLimitDecision:
        """May `address` try to authenticate now?"""
        key = normalize_address(address)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return RateLimitDecision(True, self.max_failures, 0)
            if entry.locked_until is not None:
                if now < entry.locked_until:
                    return RateLimitDecision(False, 0, max(1, int((entry.locked_until - now) * 1000)))
                entry.locked_until = None
                entry.failures.clear()
            self._slide(entry, now)
            remaining = max(0, self.max_failures - len(entry.failures))
            return RateLimitDecision(remaining > 0, remaining, 0)

    def record_failure(self, address: str | None) -> None:
        """Count one failed credential check; the last allowed failure starts the lockout."""
        key = normalize_address(address)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._make_room(now)
                entry = self._entries[key] = _Entry()
            if entry.locked_until is not None and now < entry.locked_until:
                return
            self._slide(entry, now)
            entry.failures.append(now)
            if len(entry.failures) >= self.max_failures:
                entry.locked_until = now + self.lockout_s

    def reset(self, address: str | None) -> None:
        """Forget the failures of `address` (after it authenticated)."""
        with self._lock:
            self._entries.pop(normalize_address(address), None)

    def prune(self) -> None:
        """Drop entries with no recent failures and no running lockout."""
        now = self._clock()
        with self._lock:
            for key in list(self._entries):
                entry = self._entries[key]
                if entry.locked_until is not None and now < entry.locked_until:
                    continue
                self._slide(entry, now)
                if not entry.failures:
                    del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def _make_room(self, now: float) -> None:
        # Bound memory under a flood of addresses (oldest first); locked-out entries are kept so
        # that a flood cannot free an attacker from its own lockout.
        excess = len(self._entries) + 1 - self.max_entries
        if excess <= 0:
            return
        for key in list(self._entries):
            if excess <= 0:
                break
            entry = self._entries[key]
            if entry.locked_until is not None and now < entry.locked_until:
                continue
            del self._entries[key]
            excess -= 1
