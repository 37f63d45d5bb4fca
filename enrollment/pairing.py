"""Rules for pairing a released station with its first owner.

The owner's app posts both label payloads (:func:`enrollment.qr.decode_pair`). The service then
applies, in this order, so that an attacker learns nothing before proving possession:

1. the lockout (:class:`LockoutPolicy`), counted per station: a locked station answers
   "try again at ..." whatever the codes;
2. :func:`check_pairing_codes`: both codes must match, and the answer does not say which one
   failed; a failure is recorded against the station;
3. the lifecycle move ``released -> paired`` (:func:`enrollment.lifecycle.apply`), whose refusal
   ("device is paired") is only shown to someone who holds both codes.

Guessing is hopeless anyway (two 140-bit codes); the lockout limits the damage of a buggy or
abusive client and keeps the audit log readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from enrollment.codes import code_matches

__all__ = ["LockoutPolicy", "check_pairing_codes"]


def check_pairing_codes(
    device_code: str,
    packaging_code: str,
    *,
    device_code_hash: str,
    packaging_code_hash: str,
    pepper: bytes,
) -> bool:
    """Whether both codes match their stored hashes.

    Both comparisons always run and take constant time, so neither timing nor the answer
    reveals which code was wrong.
    """
    device_ok = code_matches(device_code, device_code_hash, pepper=pepper)
    packaging_ok = code_matches(packaging_code, packaging_code_hash, pepper=pepper)
    return device_ok & packaging_ok


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Growing delays after repeated failed pairing attempts on one station.

    The first ``free_attempts`` failures cost nothing. Failure number ``free_attempts + n``
    (``n >= 0``) locks the station for ``base_delay * 2**n``, capped at ``max_delay``. A
    success resets the count (the caller stores ``failures`` and ``last_failure_at``).
    """

    free_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.free_attempts < 0:
            raise ValueError("free_attempts must not be negative")
        if self.base_delay <= timedelta(0):
            raise ValueError("base_delay must be positive")
        if self.max_delay < self.base_delay:
            raise ValueError("max_delay must not be shorter than base_delay")

    def delay(self, failures: int) -> timedelta:
        """How long ``failures`` consecutive failures lock the station (zero when free)."""
        excess = failures - self.free_attempts
        if excess < 0:
            return timedelta(0)
        delay = self.base_delay
        for _ in range(excess):  # stops at the cap, after at most log2(max/base) doublings
            if delay >= self.max_delay:
                break
            delay *= 2
        return min(delay, self.max_delay)

    def locked_until(self, failures: int, last_failure_at: datetime | None) -> datetime | None:
        """When the station accepts attempts again, or ``None`` if it is not locked.

        Raises:
            ValueError: ``last_failure_at`` is naive (no time zone).
        """
        if last_failure_at is None:
            return None
        if last_failure_at.utcoffset() is None:
            raise ValueError("last_failure_at must carry a time zone")
        delay = self.delay(failures)
        return None if not delay else last_failure_at + delay

    def retry_after(
        self, failures: int, last_failure_at: datetime | None, *, now: datetime
    ) -> timedelta | None:
        """How long the caller must still wait at ``now``, or ``None`` if it may try now."""
        until = self.locked_until(failures, last_failure_at)
        if until is None or now >= until:
            return None
        return until - now
