"""The platform asks profile-2 stations for a CSR (field enrollment driven by the platform).

``CsrRequester`` hears the gateway's connections: a registered (not pending) station admitted
on security profile 2 (HTTP Basic over TLS) that holds no station certificate valid for more
than the renewal window is sent ``TriggerCertificateSigning`` at once (1.6
ExtendedTriggerMessage SignChargePointCertificate, 2.x TriggerMessage
SignChargingStationCertificate). Until its SignCertificate arrives it is asked again after each
wait of ``enrollment.csr_requests.CsrRequestPolicy``; the attempts end when the station sends
its CSR, disconnects, or the policy runs out (audited). The CSR itself goes the usual way
(``StationCertificateService.handle_request``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlmodel import Session

from app import audit
from app.station_certificates import StationCertificateService
from charging.commands import TriggerCertificateSigning
from charging.events import CertificateRequested, Event
from charging.outcomes import Decision
from enrollment.csr_requests import CsrRequestPolicy
from ocpp_edge.admission import Admission, SecurityProfile

log = logging.getLogger(__name__)

ACTOR = audit.Actor("platform", "field-enrollment")


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

    async def on_connection(self, what: str, station_id: str, admission: Admission | None) -> None:
        """A ``PlatformSink`` connection observer."""
        self.stop(station_id)
        if what != "connected" or admission is None or admission.pending:
            return
        if admission.profile is not SecurityProfile.BASIC_TLS:
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
        with Session(self.certificates.engine) as session:
            audit.record(
                session,
                ACTOR,
                action,
                object_type="station",
                object_id=station_id,
                outcome=outcome,
                **detail,
            )
            session.commit()
