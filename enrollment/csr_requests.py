"""The platform asks profile-2 stations for a CSR (field enrollment driven by the platform;
1.6 Security Whitepaper A02/A03, OCPP 2.0.1 A02/A03).

``CsrRequester`` hears the gateway's connections: a registered (not pending) station admitted
on security profile 2 (HTTP Basic over TLS) that holds no station certificate valid for more
than the renewal window is sent ``TriggerCertificateSigning`` at once (1.6
ExtendedTriggerMessage SignChargePointCertificate, 2.x TriggerMessage
SignChargingStationCertificate). Until its SignCertificate arrives it is asked again after each
wait of ``CsrRequestPolicy``; the attempts end when the station sends
its CSR, disconnects, or the policy runs out (audited). The CSR itself goes the usual way
(``StationCertificateService.handle_request``).

The policy is a bounded number of attempts with exponentially growing waits:

    >>> CsrRequestPolicy(attempts=4, first_wait_s=30, factor=2, max_wait_s=90).waits()
    (30.0, 60.0, 90.0, 90.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from charging.commands import TriggerCertificateSigning
from charging.events import CertificateRequested, Event
from charging.outcomes import Decision
from enrollment.field import StationCertificateService
from enrollment.ports import Party

log = logging.getLogger(__name__)

ACTOR = Party("platform", "field-enrollment")
BASIC_TLS = 2
"""Security profile 2: HTTP Basic over TLS, the profile a station enrolls from."""


class Admitted(Protocol):
    """How the gateway admitted a connection (``ocpp_edge.admission.Admission`` has this shape)."""

    @property
    def pending(self) -> bool: ...
    @property
    def profile(self) -> int: ...


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


class CsrRequester:
    """Per connected station, at most one round of CSR requests under way."""

    def __init__(
        self,
        certificates: StationCertificateService,
        *,
        renew_within: timedelta,
        policy: CsrRequestPolicy | None = None,
    ) -> None:
        self.certificates = certificates
        self.renew_within = renew_within
        self.policy = policy or CsrRequestPolicy()
        self._rounds: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._checking: dict[str, object] = {}  # connections whose certificate is being looked up
        self.attempts: dict[str, int] = {}

    async def on_connection(self, what: str, station_id: str, admission: Admitted | None) -> None:
        """A ``PlatformSink`` connection observer."""
        self.stop(station_id)
        if what != "connected" or admission is None or admission.pending:
            return
        if admission.profile != BASIC_TLS:
            return
        check = self._checking[station_id] = object()
        needed = await asyncio.to_thread(
            self.certificates.needs_certificate,
            station_id,
            within=self.renew_within,
            now=self.certificates.clock(),
        )
        # A CSR or a disconnect that came during the look-up ends the matter.
        if needed and self._checking.get(station_id) is check:
            self.start(station_id)
        if self._checking.get(station_id) is check:
            del self._checking[station_id]

    async def on_event(self, event: Event, _decision: Decision) -> None:
        """A ``PlatformSink`` observer of ``CertificateRequested``: the CSR came, stop asking."""
        if isinstance(event, CertificateRequested):
            self.stop(event.station_id)

    def start(self, station_id: str) -> None:
        """Begin (or restart) asking ``station_id`` for a CSR."""
        self._end_round(station_id)
        stopped = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._ask(station_id, stopped))
        self._rounds[station_id] = (task, stopped)
        task.add_done_callback(lambda done: self._forget(station_id, done))

    def stop(self, station_id: str) -> None:
        """Ask no more; a request on the wire is left to finish (the connection's single
        outstanding CALL must be answered or time out, not abandoned)."""
        self._checking.pop(station_id, None)
        self._end_round(station_id)

    def _end_round(self, station_id: str) -> None:
        found = self._rounds.pop(station_id, None)
        if found is not None:
            found[1].set()

    def asking(self, station_id: str) -> bool:
        return station_id in self._rounds

    async def aclose(self) -> None:
        tasks = [task for task, _ in self._rounds.values()]
        self._rounds.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _forget(self, station_id: str, done: asyncio.Task[None]) -> None:
        found = self._rounds.get(station_id)
        if found is not None and found[0] is done:
            del self._rounds[station_id]

    async def _ask(self, station_id: str, stopped: asyncio.Event) -> None:
        waits = self.policy.waits()
        self.attempts[station_id] = 0
        for attempt, wait in enumerate(waits, start=1):
            if stopped.is_set():
                return
            self.attempts[station_id] = attempt
            try:
                status = (
                    await self.certificates.send(station_id, TriggerCertificateSigning())
                ).status
            except Exception as exc:  # no answer, CALLERROR, not expressible: try again later
                status = f"failed: {exc}"[:200]
            await asyncio.to_thread(
                self._audit,
                "station.csr_requested",
                station_id,
                "success" if status == "Accepted" else "failure",
                attempt=attempt,
                status=status,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), wait)
            if stopped.is_set():
                return
        log.warning("%s sent no CSR after %d requests", station_id, len(waits))
        await asyncio.to_thread(
            self._audit,
            "station.csr_request_abandoned",
            station_id,
            "failure",
            attempts=len(waits),
        )

    def _audit(self, action: str, station_id: str, outcome: str, **detail: object) -> None:
        self.certificates.audit.record(
            ACTOR, action, object_type="station", object_id=station_id, outcome=outcome, **detail
        )
