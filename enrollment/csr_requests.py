"""When to ask a station for a CSR again (field enrollment, 1.6 Security Whitepaper A02/A03,
OCPP 2.0.1 A02/A03): a bounded number of attempts with exponentially growing waits.

A station on security profile 2 without a valid station certificate is asked at once
(ExtendedTriggerMessage / TriggerMessage SignCertificate); if it does not answer, refuses, or
answers but sends no SignCertificate within the wait, it is asked again, up to ``attempts``.

    >>> CsrRequestPolicy(attempts=4, first_wait_s=30, factor=2, max_wait_s=90).waits()
    (30.0, 60.0, 90.0, 90.0)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CsrRequestPolicy:
    """``waits()[n]`` is how long to wait for the CSR after attempt ``n`` before the next."""

    attempts: int = 6
    first_wait_s: float = 60.0
    factor: float = 2.0
    max_wait_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_wait_s <= 0 or self.factor < 1:
            raise ValueError("a CSR request policy needs attempts >= 1, waits > 0, factor >= 1")
        if self.max_wait_s < self.first_wait_s:
            raise ValueError("max_wait_s must not be below first_wait_s")

    def waits(self) -> tuple[float, ...]:
        return tuple(
            float(min(self.first_wait_s * self.factor**n, self.max_wait_s))
            for n in range(self.attempts)
        )
