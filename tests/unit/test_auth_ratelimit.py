"""gateway/ratelimit.py: failed-authentication counting per address."""

from __future__ import annotations

from molt_desktop.gateway.ratelimit import AuthRateLimiter, normalize_address


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lockout_after_max_failures() -> None:
    clock = Clock()
    limiter = AuthRateLimiter(max_failures=3, window_s=60, lockout_s=300, clock=clock)
    for remaining in (3, 2, 1):
        decision = limiter.check("192.0.2.1")
        assert decision.allowed and decision.remaining == remaining
        limiter.record_failure("192.0.2.1")
    decision = limiter.check("192.0.2.1")
    assert not decision.allowed and decision.retry_after_ms == 300_000
    clock.now += 100
    assert limiter.check("192.0.2.1").retry_after_ms == 200_000
    limiter.record_failure("192.0.2.1")  # failures while locked do not extend the lockout
    clock.now += 200
    assert limiter.check("192.0.2.1").allowed
    assert limiter.check("192.0.2.1").remaining == 3


def test_failures_slide_out_of_the_window() -> None:
    clock = Clock()
    limiter = AuthRateLimiter(max_failures=3, window_s=60, clock=clock)
    limiter.record_failure("a")
    limiter.record_failure("a")
    clock.now += 61
    limiter.record_failure("a")
    assert limiter.check("a").allowed and limiter.check("a").remaining == 2


def test_reset_and_addresses_are_separate() -> None:
    limiter = AuthRateLimiter(max_failures=1, clock=Clock())
    limiter.record_failure("127.0.0.1")
    assert not limiter.check("127.0.0.1").allowed  # loopback is not exempt
    assert not limiter.check("::ffff:127.0.0.1").allowed  # same client, IPv4-mapped
    assert limiter.check("::1").allowed
    limiter.reset("127.0.0.1")
    assert limiter.check("127.0.0.1").allowed


def test_normalize_address() -> None:
    assert normalize_address("::FFFF:192.0.2.1") == "192.0.2.1"
    assert normalize_address("[fe80::1%eth0]") == "fe80::1"
    assert normalize_address(None) == "unknown"
    assert normalize_address("Some-Host") == "some-host"


def test_memory_is_bounded_but_lockouts_survive_floods() -> None:
    limiter = AuthRateLimiter(max_failures=2, max_entries=10, clock=Clock())
    limiter.record_failure("attacker")
    limiter.record_failure("attacker")
    for i in range(100):
        limiter.record_failure(f"10.0.0.{i}")
    assert len(limiter) == 10
    assert not limiter.check("attacker").allowed
    assert limiter.check("10.0.0.99").remaining == 1  # the newest entries are kept


def test_prune() -> None:
    clock = Clock()
    limiter = AuthRateLimiter(max_failures=5, window_s=10, clock=clock)
    limiter.record_failure("a")
    clock.now += 11
    limiter.prune()
    assert len(limiter) == 0
