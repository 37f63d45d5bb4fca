"""The owners' side wired: the platform's implementations of the domain's ports.

:mod:`enrollment.ownership` (pairing, members, user certificates) and :mod:`charging` (cards,
local lists, session visibility, station sync) reach each other and the platform only through
ports; this module implements them: memberships for charging (:data:`MEMBERSHIPS`), the CA's
user hierarchy (:class:`UserCertificates`) and the pairing-attempt throttle
(:data:`PAIRING_GATE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.ca import AlreadyRevoked, CertificateAuthority, IssuedCertificate, UnknownCertificate
from app.identity.ratelimit import Attempt, Throttle, TooManyAttempts
from charging.ports import SessionWindow
from enrollment.invitations import Permission, Role, has_permission
from enrollment.ownership import access, certificates, history
from enrollment.ownership.errors import LockedOut
from pki.revocation import RevocationReason


class PlatformMemberships:
    """:class:`charging.ports.Memberships` over enrollment's memberships and their history."""

    def card_stations(self, session: Session, user_id: str) -> list[str]:
        return access.stations_with(session, user_id, Permission.REGISTER_RFID)

    def member_stations(self, session: Session, user_id: str) -> set[str]:
        return access.visible_stations(session, user_id)

    def session_windows(self, session: Session, user_id: str) -> Iterable[SessionWindow]:
        for period in history.periods_of(session, user_id):
            role = Role(period.role)
            yield SessionWindow(
                station_id=period.station_serial,
                started_at=period.started_at,
                ended_at=period.ended_at,
                all_sessions=has_permission(role, Permission.SEE_ALL_SESSIONS),
                own_sessions=has_permission(role, Permission.SEE_OWN_SESSIONS),
            )

    def has_owner_state(self, session: Session, serial: str) -> bool:
        return certificates.user_ca_state(session, serial) is not None or access.has_members(
            session, serial
        )

    def user_ca_state(self, session: Session, serial: str) -> bool | None:
        return certificates.user_ca_state(session, serial)

    def user_ca_installed(self, session: Session, serial: str, *, now: datetime) -> None:
        certificates.user_ca_installed(session, serial, now=now)


MEMBERSHIPS = PlatformMemberships()


class UserCertificates:
    """:class:`enrollment.ownership.ports.CertificateIssuer` over the platform's CA."""

    def __init__(self, ca: CertificateAuthority) -> None:
        self.ca = ca

    def issue_user_certificate(
        self,
        session: Session,
        csr_pem: str,
        *,
        user_id: str,
        station_ids: list[str],
        validity: timedelta,
        actor: Any,
        now: datetime,
    ) -> IssuedCertificate:
        return self.ca.issue_user_certificate(
            session,
            csr_pem,
            user_id=user_id,
            station_ids=station_ids,
            validity=validity,
            actor=actor,
            now=now,
        )

    def revoke_user_certificate(
        self, session: Session, serial_hex: str, *, actor: Any, now: datetime
    ) -> bool:
        try:
            self.ca.revoke(
                session, serial_hex, RevocationReason.AFFILIATION_CHANGED, actor=actor, now=now
            )
        except (AlreadyRevoked, UnknownCertificate):
            return False
        return True


PAIRING_THROTTLE = Throttle("pairing", per_pair=5, window=timedelta(minutes=15), per_account=5)
"""Per (device, user): 5 wrong tries in 15 minutes; per user: 50 over all devices; once a device
had 5 failures, every other user gets one try per window on it (one holding both codes pairs)."""


class PairingThrottle:
    """:class:`enrollment.ownership.ports.PairingGate` over :data:`PAIRING_THROTTLE`."""

    def admit(self, engine: Engine, serial: str, user_id: str, *, now: datetime) -> Attempt:
        try:
            return PAIRING_THROTTLE.admit(engine, serial, user_id, now=now)
        except TooManyAttempts as exc:
            raise LockedOut(exc.retry_after) from None

    def failed(self, engine: Engine, attempt: Attempt, *, now: datetime, actor: Any) -> None:
        PAIRING_THROTTLE.failed(engine, attempt, now=now, actor=actor)

    def succeeded(self, engine: Engine, attempt: Attempt) -> None:
        PAIRING_THROTTLE.succeeded(engine, attempt)


PAIRING_GATE = PairingThrottle()
