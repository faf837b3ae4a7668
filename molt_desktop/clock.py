"""The one clock: wall time in epoch milliseconds and ISO-8601, and a monotonic clock for durations."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now_ms() -> int:
    """Wall-clock time in milliseconds since the epoch (what the protocol calls `ts`)."""
    return time.time_ns() // 1_000_000


def iso_from_ms(ms: int) -> str:
    """`2026-11-21T13:44:03.579Z`, the timestamp form of OpenClaw transcripts."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def now_iso() -> str:
    return iso_from_ms(now_ms())


def monotonic() -> float:
    """Seconds from an arbitrary start; for durations and timeouts only."""
    return time.monotonic()
