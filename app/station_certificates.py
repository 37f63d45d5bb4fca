"""Certificate management with stations over OCPP: field enrollment, renewal, admin commands.

The flow (1.6 Security Whitepaper Ed. 3 "Use cases: certificate management"; OCPP 2.0.1 A02,
A03, A05, M03, M04):

1. the station sends SignCertificate with a CSR; ``handle_request`` checks it and answers
   Accepted or Rejected (the decision is the reply);
2. after the reply went out, the CA signs it and ``SendCertificate`` (CertificateSigned) carries
   the chain, leaf first;
3. when the station accepts the chain, the operator root is installed (InstallCertificate
   CentralSystemRootCertificate / CSMSRootCertificate) unless GetInstalledCertificateIds shows it;
   the older certificates of the station stay valid until it first connects with the new one,
   which supersedes them (``CertificateAuthority.check_station_certificate``);
4. the station's security profile is raised to 3: OCPP 1.6 ChangeConfiguration
   ``SecurityProfile`` = 3 (Security Whitepaper 2.4), after which the station reconnects with its
   certificate and the platform records profile 3. OCPP 2.0.1 and 2.1 (A05, B09): the current
   ``OCPPCommCtrlr.NetworkConfigurationPriority`` is read, SetNetworkProfile stores a profile-3
   connection to the gateway's wss:// URL in a slot not in that list, the priority becomes
   ``"<new slot>,<old slots>"`` and Reset(OnIdle) restarts the station onto it; profile 3 is
   recorded once the station accepted all three. Without a known gateway URL the upgrade is
   audited as pending and the profile stays as it is.

Renewal (A03/A04): ``request_renewals`` sends TriggerCertificateSigning to connected stations
whose newest certificate expires within the given window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import audit
from app.ca import CertificateAuthority, IssuedCertificate
from app.ca_tables import CertificateStatus, IssuedCertificateRow
from app.profile_upgrade import (
    NETWORK_PRIORITY,
    NETWORK_PROFILE_VERSIONS,
    PROFILE_3,
    gateway_url,
    parse_priority,
    profile_upgrade_commands,
    root_is_listed,
    upgrade_step_accepted,
)
from charging import registry
from charging.commands import (
    CertificateHashData,
    CertificateUse,
    Command,
    CommandResult,
    DeleteCertificate,
    GetConfiguration,
    GetInstalledCertificateIds,
    InstallCertificate,
    SendCertificate,
    TriggerCertificateSigning,
)
from charging.events import CertificateRequested, CertificateSigningUse
from charging.outcomes import CertificateSigningDecision
from charging.tables import Station
from common.clock import as_utc, utcnow
from pki import STATION, CARole, CsrRejected, check_csr, load_csr

log = logging.getLogger(__name__)

Send = Callable[[str, Command], Awaitable[CommandResult]]


@dataclass(frozen=True, slots=True)
class EnrollmentOutcome:
    """How far the flow got for one CSR."""

    station_id: str
    serial_hex: str
    installed: bool
    root_installed: bool = False
    profile_raised: bool = False


class StationCertificateService:
    """The async service ``PlatformSink`` calls for ``CertificateRequested`` events.

    ``csms_url`` is the URL 2.0.1/2.1 stations are sent to for profile 3; by default
    ``gateway_url`` of the CA's settings.
    """

    def __init__(
        self,
        ca: CertificateAuthority,
        engine: Engine,
        send: Send,
        *,
        clock: Callable[[], datetime] = utcnow,
        csms_url: str | None = None,
    ) -> None:
        self.ca = ca
        self.engine = engine
        self.send = send
        self.clock = clock
        self.csms_url = csms_url if csms_url is not None else gateway_url(ca.settings)
        self._tasks: set[asyncio.Task[EnrollmentOutcome | None]] = set()
        self.outcomes: list[EnrollmentOutcome] = []

    async def handle_request(self, event: CertificateRequested) -> CertificateSigningDecision:
        """Decide on a station's CSR; when accepted, sign and install it once the reply is out."""
        actor = audit.Actor(f"station:{event.station_id}", "ocpp")
        if event.certificate_type is not CertificateSigningUse.CHARGING_STATION:
            reason = f"{event.certificate_type} certificates are not issued by this platform"
            await asyncio.to_thread(
                self.ca.record_refusal, actor, "pki.certificate_refused", event.station_id, reason
            )
            return CertificateSigningDecision(accepted=False)
        try:
            check_csr(
                load_csr(event.csr),
                profile=STATION,
                expected_common_name=event.station_id,
                expected_organization=None,
            )
        except CsrRejected as exc:
            await asyncio.to_thread(
                self.ca.record_refusal,
                actor,
                "pki.certificate_refused",
                event.station_id,
                exc.reason,
            )
            return CertificateSigningDecision(accepted=False)
        task = asyncio.get_running_loop().create_task(self._complete(event, actor))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return CertificateSigningDecision(accepted=True)

    async def drain(self) -> None:
        """Wait for every enrollment under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _complete(
        self, event: CertificateRequested, actor: audit.Actor
    ) -> EnrollmentOutcome | None:
        await asyncio.sleep(0)  # the CALLRESULT accepting the CSR is written first
        try:
            outcome = await self.enroll(event.station_id, event.csr, actor=actor)
        except Exception:
            log.exception("certificate enrollment of %s failed", event.station_id)
            return None
        self.outcomes.append(outcome)
        return outcome

    async def enroll(
        self, station_id: str, csr_pem: str, *, actor: audit.Actor
    ) -> EnrollmentOutcome:
        """Sign ``csr_pem``, send the chain, install the root and raise the profile."""
        issued = await asyncio.to_thread(self._issue, station_id, csr_pem, actor)
        answer = await self.send(
            station_id,
            SendCertificate(issued.chain_pem, CertificateSigningUse.CHARGING_STATION),
        )
        if answer.status != "Accepted":
            await asyncio.to_thread(
                self.ca.record_refusal,
                actor,
                "pki.certificate_not_installed",
                station_id,
                f"CertificateSigned answered {answer.status}",
                serial=issued.serial_hex,
            )
            return EnrollmentOutcome(station_id, issued.serial_hex, installed=False)
        root_installed = await self._ensure_root(station_id, actor)
        raised = await self._raise_profile(station_id, actor)
        return EnrollmentOutcome(station_id, issued.serial_hex, True, root_installed, raised)

    def _issue(self, station_id: str, csr_pem: str, actor: audit.Actor) -> IssuedCertificate:
        with Session(self.engine) as session:
            issued = self.ca.issue_station_certificate(
                session, csr_pem, station_id=station_id, actor=actor, now=self.clock()
            )
            session.commit()
            return issued

    async def _ensure_root(self, station_id: str, actor: audit.Actor) -> bool:
        """Install the operator root unless the station lists it already; True if installed."""
        root = self.ca.authority(CARole.OPERATOR_ROOT).certificate
        listed = await self.send(
            station_id, GetInstalledCertificateIds((CertificateUse.CSMS_ROOT,))
        )
        if listed.status == "Accepted" and root_is_listed(listed.payload, root.serial_number):
            return False
        answer = await self.send(
            station_id, InstallCertificate(CertificateUse.CSMS_ROOT, self.ca.root_pem())
        )
        outcome = "success" if answer.status == "Accepted" else "failure"
        await asyncio.to_thread(
            self._audit, actor, "pki.root_installed", station_id, outcome, status=answer.status
        )
        return answer.status == "Accepted"

    async def _raise_profile(self, station_id: str, actor: audit.Actor) -> bool:
        station = await asyncio.to_thread(self._station, station_id)
        if station is None or station.security_profile >= PROFILE_3:
            return False
        version = station.ocpp_version
        priority: tuple[int, ...] = ()
        if (version or "").removeprefix("ocpp") in NETWORK_PROFILE_VERSIONS and self.csms_url:
            priority = await self._read_priority(station_id)
        commands = profile_upgrade_commands(version, csms_url=self.csms_url, priority=priority)
        if not commands:
            await asyncio.to_thread(
                self._audit,
                actor,
                "station.security_profile_upgrade_pending",
                station_id,
                "failure",
                reason=f"OCPP {version} needs SetNetworkProfile (A05) to a known wss:// URL",
            )
            return False
        for command in commands:
            try:
                status = (await self.send(station_id, command)).status
            except Exception as exc:  # offline, timeout, CALLERROR: the profile stays
                status = f"failed: {exc}"[:200]
            if not upgrade_step_accepted(command, status):
                await asyncio.to_thread(
                    self._audit,
                    actor,
                    "station.security_profile_raised",
                    station_id,
                    "failure",
                    step=type(command).__name__,
                    status=status,
                )
                return False
        await asyncio.to_thread(self._record_profile, station_id, actor)
        return True

    async def _read_priority(self, station_id: str) -> tuple[int, ...]:
        """The station's NetworkConfigurationPriority; empty when it cannot be read."""
        try:
            answer = await self.send(station_id, GetConfiguration((NETWORK_PRIORITY,)))
            return parse_priority(answer.values.get(NETWORK_PRIORITY) or "")
        except Exception:
            log.warning("could not read %s of %s", NETWORK_PRIORITY, station_id, exc_info=True)
            return ()

    def _station(self, station_id: str) -> Station | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(Station, station_id)

    def _record_profile(self, station_id: str, actor: audit.Actor) -> None:
        with Session(self.engine) as session:
            registry.raise_security_profile(session, station_id, PROFILE_3)
            audit.record(
                session,
                actor,
                "station.security_profile_raised",
                object_type="station",
                object_id=station_id,
                profile=PROFILE_3,
            )
            session.commit()

    def _audit(
        self, actor: audit.Actor, action: str, station_id: str, outcome: str, **detail: object
    ) -> None:
        with Session(self.engine) as session:
            audit.record(
                session,
                actor,
                action,
                object_type="station",
                object_id=station_id,
                outcome=outcome,
                **detail,
            )
            session.commit()

    # -- renewal and admin commands ------------------------------------------------------------

    def expiring_stations(self, *, within: timedelta, now: datetime) -> list[str]:
        """Stations whose newest live certificate expires before ``now + within``."""
        query = select(IssuedCertificateRow).where(
            IssuedCertificateRow.profile == STATION.name,
            IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
        )
        newest: dict[str, datetime] = {}
        with Session(self.engine) as session:
            for row in session.exec(query).all():
                if row.station_id is None:
                    continue
                not_after = as_utc(row.not_after)
                newest[row.station_id] = max(not_after, newest.get(row.station_id, not_after))
        return sorted(sid for sid, not_after in newest.items() if not_after < now + within)

    def needs_certificate(self, station_id: str, *, within: timedelta, now: datetime) -> bool:
        """Whether ``station_id`` has no live station certificate valid past ``now + within``."""
        query = select(IssuedCertificateRow.not_after).where(
            IssuedCertificateRow.profile == STATION.name,
            IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
            IssuedCertificateRow.station_id == station_id,
        )
        with Session(self.engine) as session:
            ends = [as_utc(not_after) for not_after in session.exec(query).all()]
        return not any(end >= now + within for end in ends)

    async def request_renewals(
        self, *, within: timedelta, is_connected: Callable[[str], bool]
    ) -> dict[str, str]:
        """Send TriggerCertificateSigning to connected stations due for renewal; their answers."""
        due = await asyncio.to_thread(self.expiring_stations, within=within, now=self.clock())
        answers: dict[str, str] = {}
        for station_id in filter(is_connected, due):
            try:
                result = await self.send(station_id, TriggerCertificateSigning())
            except Exception as exc:  # offline, timeout, CALLERROR: try again next round
                answers[station_id] = f"failed: {exc}"
                continue
            answers[station_id] = result.status
        return answers

    async def installed_certificates(
        self, station_id: str, certificate_types: tuple[CertificateUse, ...] = ()
    ) -> CommandResult:
        """GetInstalledCertificateIds (1.6 needs exactly one type)."""
        return await self.send(station_id, GetInstalledCertificateIds(certificate_types))

    async def delete_certificate(
        self, station_id: str, hash_data: CertificateHashData, *, actor: audit.Actor
    ) -> CommandResult:
        """DeleteCertificate, audited with the station's answer."""
        answer = await self.send(station_id, DeleteCertificate(hash_data))
        await asyncio.to_thread(
            self._audit,
            actor,
            "pki.station_certificate_deleted",
            station_id,
            "success" if answer.status == "Accepted" else "failure",
            serial=hash_data.serial_number,
            status=answer.status,
        )
        return answer
