"""The platform side of the OCPP gateway: who may connect, and where station events go.

``PlatformGatekeeper`` applies the security-profile rules of ``ocpp_edge.admission`` to the
station records; ``PlatformSink`` hands events to the charging core (and certificate requests to
the CA flow). ``CommandBus`` is how the API reaches whichever connection holds a station: in one
process it is the gateway itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import audit
from app.db import is_database_outage
from app.identity.ratelimit import Throttle, TooManyAttempts
from charging import registry
from charging.commands import Command, CommandResult
from charging.errors import ChargingError
from charging.events import CertificateRequested, Event
from charging.outcomes import CertificateSigningDecision, Decision
from charging.passwords import StationPasswords
from charging.tables import Station
from common.clock import utcnow
from enrollment.field import raise_security_profile
from ocpp_edge.admission import (
    Admission,
    HandshakeRequest,
    SecurityProfile,
    check_basic_user,
    check_transport,
)
from ocpp_edge.server import Gateway

log = logging.getLogger(__name__)


def station_passwords() -> StationPasswords:
    """Argon2id at OWASP's minimum (19 MiB, 1 pass): station passwords are 16-40 characters,
    mostly machine-made, and a reconnect storm must not spend seconds of CPU per station."""
    return StationPasswords(PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1))


class CertificateChecker(Protocol):
    def check_station_certificate(self, der: bytes, *, station_id: str, now: datetime) -> None: ...


def handshake_throttle() -> Throttle:
    """Password handshakes: 10 attempts per (station, address) in 15 minutes, 100 per address;
    shared by every edge node through the database, so an admin can lift it anywhere."""
    return Throttle("station", per_pair=10, window=timedelta(minutes=15))


class PlatformGatekeeper:
    """Admits stations by their record: unknown -> 404 (or pending with auto-registration),
    wrong credentials or a transport below the recorded profile -> 401."""

    def __init__(
        self,
        engine: Engine,
        passwords: StationPasswords,
        *,
        auto_register: bool = False,
        certificates: CertificateChecker | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.passwords = passwords
        self.auto_register = auto_register
        self.certificates = certificates
        self.clock = clock
        # (station id, keyed digest of the password) -> the hash it was verified against.
        # A reconnecting station skips Argon2 while its stored hash is unchanged.
        self._verified: dict[tuple[str, bytes], str] = {}
        self.throttle = handshake_throttle()
        self._cache_key = hashlib.sha256(str(id(self)).encode()).digest()

    async def admit(self, request: HandshakeRequest) -> Admission:
        try:
            return await asyncio.to_thread(self._admit, request)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            log.warning("refused %s: the database is unavailable (%s)", request.station_id, exc)
            return Admission.refuse(503, "the platform's database is unavailable; retry later")

    def _admit(self, request: HandshakeRequest) -> Admission:
        now = self.clock()
        if request.client_certificate is not None:
            # Profile 3: the certificate is the proof; password failures never throttle it.
            return self._decide(request, now)
        try:
            attempt = self.throttle.admit(self.engine, request.station_id, request.remote, now=now)
        except TooManyAttempts as exc:
            admission = Admission.refuse(429, str(exc))
            self._audit_refusal(request, admission)
            return admission
        admission = self._decide(request, now)
        if admission.accepted:
            self.throttle.succeeded(self.engine, attempt)
        elif admission.status == 401:
            actor = audit.Actor(f"station:{request.station_id}", request.remote)
            self.throttle.failed(self.engine, attempt, now=now, actor=actor)
        else:  # unknown station ids: probing counts against the address only
            self.throttle.dismiss(self.engine, attempt)
        return admission

    def _audit_refusal(
        self, request: HandshakeRequest, admission: Admission, session: Session | None = None
    ) -> None:
        actor = audit.Actor(f"station:{request.station_id}", request.remote)
        entry = {"object_type": "station", "object_id": request.station_id, "outcome": "failure"}
        if session is None:
            audit.record_apart(
                self.engine, actor, "station.connect_refused", **entry, reason=admission.reason
            )
            return
        audit.record(session, actor, "station.connect_refused", **entry, reason=admission.reason)
        session.commit()

    def _decide(self, request: HandshakeRequest, now: datetime) -> Admission:
        with Session(self.engine, expire_on_commit=False) as session:
            station = session.get(Station, request.station_id)
            if station is None:
                return self._unknown(session, request, now)
            admission = self._check(station, request, now)
            if admission.accepted and admission.profile > station.security_profile:
                # A valid station certificate proves the station was enrolled: from now on it
                # is held to profile 3 (OCPP 2.0.1 A00.FR.604: never lowered again).
                raise_security_profile(
                    session,
                    station.id,
                    int(admission.profile),
                    actor=audit.Actor(f"station:{station.id}", request.remote),
                    audit=audit.record,
                )
                session.commit()
            if not admission.accepted:
                self._audit_refusal(request, admission, session)
            return admission

    def _unknown(self, session: Session, request: HandshakeRequest, now: datetime) -> Admission:
        if not self.auto_register or request.password is None:
            return Admission.refuse(404, "unknown station")
        try:
            registry.register_pending(
                session, request.station_id, request.password, passwords=self.passwords, now=now
            )
        except ChargingError as exc:
            return Admission.refuse(401, str(exc))
        audit.record(
            session,
            audit.Actor(f"station:{request.station_id}", request.remote),
            "station.auto_registered",
            object_type="station",
            object_id=request.station_id,
        )
        session.commit()
        return Admission.admit(SecurityProfile.BASIC, pending=True)

    def _check(self, station: Station, request: HandshakeRequest, now: datetime) -> Admission:
        recorded = SecurityProfile(station.security_profile)
        reason = check_basic_user(request) or check_transport(request, recorded)
        if reason:
            return Admission.refuse(401, reason)
        if request.client_certificate is not None and self.certificates is not None:
            from pki.errors import PkiError

            try:
                self.certificates.check_station_certificate(
                    request.client_certificate, station_id=station.id, now=now
                )
            except PkiError as exc:
                return Admission.refuse(401, f"client certificate refused: {exc}")
            return Admission.admit(SecurityProfile.CLIENT_CERTIFICATE, pending=station.pending)
        if request.client_certificate is not None:
            return Admission.refuse(401, "client certificates are not accepted here")
        assert request.password is not None  # check_transport demands one without a cert
        if not self._password_ok(station, request.password):
            return Admission.refuse(401, "wrong station id or password")
        return Admission.admit(recorded, pending=station.pending)

    def _password_ok(self, station: Station, password: str) -> bool:
        key = (station.id, hmac.new(self._cache_key, password.encode(), "sha256").digest())
        if station.password_hash and self._verified.get(key) == station.password_hash:
            return True
        if not self.passwords.verify(password, station.password_hash):
            return False
        assert station.password_hash is not None
        self._verified[key] = station.password_hash
        return True


class ChargingCorePort(Protocol):
    async def handle(self, event: Event) -> Decision: ...

    async def connected(self, station_id: str, version: str) -> None: ...

    async def disconnected(self, station_id: str) -> None: ...


CertificateRequestHandler = Callable[[CertificateRequested], Awaitable[CertificateSigningDecision]]


EventObserver = Callable[[Event, Decision], Awaitable[None]]
ConnectionObserver = Callable[[str, str, Admission | None], Awaitable[None]]


class PlatformSink:
    """Routes station events: certificate requests to the CA flow, the rest to the core.

    Observers hear the events they asked for after the core decided on them (live updates for
    the app and the dashboard); an observer of no particular type hears every event. Most
    traffic is Heartbeats and meter values, so the lookup is one dict access per event.
    Connection observers hear ``("connected" | "disconnected", station_id, ...)``. An
    observer's failure is logged and never reaches the station.
    """

    def __init__(
        self,
        core: ChargingCorePort,
        certificate_requests: CertificateRequestHandler | None = None,
    ) -> None:
        self.core = core
        self.certificate_requests = certificate_requests
        self.listeners: list[ConnectionObserver] = []
        self._everything: list[EventObserver] = []
        self._typed: dict[type[Event], list[EventObserver]] = {}
        self._by_type: dict[type[Event], tuple[EventObserver, ...]] = {}

    def add_observer(
        self, observer: EventObserver, *, events: Iterable[type[Event]] | None = None
    ) -> None:
        """Let ``observer`` hear ``events`` (every event when None)."""
        if events is None:
            self._everything.append(observer)
        else:
            for event_type in events:
                self._typed.setdefault(event_type, []).append(observer)
        self._by_type.clear()

    def _observers_of(self, event_type: type[Event]) -> tuple[EventObserver, ...]:
        found = self._by_type.get(event_type)
        if found is None:
            found = (*self._typed.get(event_type, ()), *self._everything)
            self._by_type[event_type] = found
        return found

    async def handle(self, event: Event) -> Decision:
        if isinstance(event, CertificateRequested):
            if self.certificate_requests is None:
                return CertificateSigningDecision(accepted=False)
            decision: Decision = await self.certificate_requests(event)
        else:
            decision = await self.core.handle(event)
        for observer in self._observers_of(type(event)):
            try:
                await observer(event, decision)
            except Exception:
                log.exception("an event observer failed on %s", type(event).__name__)
        return decision

    async def connected(self, station_id: str, version: str, admission: Admission) -> None:
        await self.core.connected(station_id, version)
        await self._tell("connected", station_id, admission)

    async def disconnected(self, station_id: str) -> None:
        await self.core.disconnected(station_id)
        await self._tell("disconnected", station_id, None)

    async def _tell(self, what: str, station_id: str, admission: Admission | None) -> None:
        for listener in self.listeners:
            try:
                await listener(what, station_id, admission)
            except Exception:
                log.exception("a connection observer failed on %s", what)


class CommandBus(Protocol):
    """Carries a command to the connection holding the station and brings its answer back."""

    async def send(
        self, station_id: str, command: Command, *, timeout: float | None = None
    ) -> CommandResult: ...


class LocalCommandBus:
    """The bus of a single process: the gateway in this process holds every connection."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def send(
        self, station_id: str, command: Command, *, timeout: float | None = None
    ) -> CommandResult:
        return await self.gateway.send(station_id, command, timeout=timeout)

    def is_connected(self, station_id: str) -> bool:
        return self.gateway.is_connected(station_id)
