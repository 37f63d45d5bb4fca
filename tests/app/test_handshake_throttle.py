"""The handshake throttle: growing delays per station id and per address, bounded memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.edge import HandshakeThrottle
from enrollment.pairing import LockoutPolicy

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = LockoutPolicy(
    free_attempts=2, base_delay=timedelta(seconds=10), max_delay=timedelta(seconds=40)
)


def test_free_attempts_cost_nothing_then_delays_grow_to_the_cap() -> None:
    throttle = HandshakeThrottle(POLICY)
    keys = ["station:A"]
    waits = []
    for _ in range(6):
        throttle.fail(keys, now=T0)
        waits.append(throttle.retry_after(keys, now=T0))
    assert waits == [None, 10.0, 20.0, 40.0, 40.0, 40.0]
    assert throttle.retry_after(keys, now=T0 + timedelta(seconds=41)) is None


def test_a_success_clears_the_station_but_not_the_address() -> None:
    throttle = HandshakeThrottle(POLICY)
    for _ in range(3):
        throttle.fail(["station:A", "address:1.2.3.4"], now=T0)
    throttle.succeed("station:A")
    assert throttle.retry_after(["station:A"], now=T0) is None
    assert throttle.retry_after(["address:1.2.3.4"], now=T0) == 20.0


def test_the_longest_wait_of_the_keys_applies() -> None:
    throttle = HandshakeThrottle(POLICY)
    for _ in range(4):
        throttle.fail(["address:1.2.3.4"], now=T0)
    throttle.fail(["station:B"], now=T0)
    assert throttle.retry_after(["station:B", "address:1.2.3.4"], now=T0) == 40.0


def test_memory_stays_bounded_by_forgetting_the_oldest_keys() -> None:
    throttle = HandshakeThrottle(POLICY, capacity=3)
    for n in range(5):
        for _ in range(3):
            throttle.fail([f"address:{n}"], now=T0)
    assert throttle.retry_after(["address:0"], now=T0) is None
    assert throttle.retry_after(["address:4"], now=T0) == 20.0
