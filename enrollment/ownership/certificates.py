"""Short-lived user certificates for guests and owners (local talk to the station).

The caller names the stations (default: every station where their role allows a user
certificate). A station they may not use refuses the whole request with :class:`NotAllowed`,
without saying which. The certificate's SAN binds it to the stations
(:class:`~enrollment.ownership.ports.CertificateIssuer`, which the platform's CA implements);
the bindings are kept so that removing a
member revokes exactly their certificates. Every bound station must hold the user CA: a
:class:`UserCAInstall` row marks it pending until the station accepts ``InstallCertificate``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, select

from enrollment.invitations import Permission, Role, has_permission
from enrollment.ownership.access import canonical_serial, membership, stations_with
from enrollment.ownership.errors import NotAllowed, NotVisible
from enrollment.ownership.ports import CertificateIssuer, IssuedUserCertificate
from enrollment.ownership.tables import UserCAInstall, UserCertificateBinding

IssuedT = TypeVar("IssuedT", bound=IssuedUserCertificate)

DEFAULT_VALIDITY = timedelta(hours=24)


def issue(
    session: Session,
    issuer: CertificateIssuer[IssuedT],
    csr_pem: str,
    *,
    user_id: str,
    stations: list[str] | None,
    validity: timedelta = DEFAULT_VALIDITY,
    actor: Any,
    now: datetime,
) -> tuple[IssuedT, list[str]]:
    """Issue the certificate; return it with the stations it is bound to.

    Raises:
        NotAllowed: no station given or usable, or one the user may not use;
        the issuer's refusals of the CSR.
    """
    if stations is None:
        serials = stations_with(session, user_id, Permission.GET_USER_CERTIFICATE)
    else:
        serials = sorted({_usable(session, text, user_id) for text in stations})
    if not serials:
        raise NotAllowed("you may not use any station with a user certificate")
    issued = issuer.issue_user_certificate(
        session,
        csr_pem,
        user_id=user_id,
        station_ids=serials,
        validity=validity,
        actor=actor,
        now=now,
    )
    for serial in serials:
        session.add(
            UserCertificateBinding(
                serial_hex=issued.serial_hex, user_id=user_id, station_serial=serial
            )
        )
        if session.get(UserCAInstall, serial) is None:
            session.add(UserCAInstall(station_serial=serial))
    return issued, serials


def _usable(session: Session, text: str, user_id: str) -> str:
    try:
        serial = canonical_serial(text)
    except NotVisible:
        raise NotAllowed("you may not use one of the stations named") from None
    found = membership(session, serial, user_id)
    if found is None or not has_permission(Role(found.role), Permission.GET_USER_CERTIFICATE):
        raise NotAllowed("you may not use one of the stations named")
    return serial


def revoke_bound(
    session: Session,
    issuer: CertificateIssuer[IssuedUserCertificate],
    serial: str,
    user_id: str,
    *,
    actor: Any,
    now: datetime,
) -> list[str]:
    """Revoke the user's certificates bound to the station; the serials revoked now."""
    bindings = session.exec(
        select(UserCertificateBinding).where(
            UserCertificateBinding.user_id == user_id,
            UserCertificateBinding.station_serial == serial,
        )
    ).all()
    return [
        binding.serial_hex
        for binding in bindings
        if issuer.revoke_user_certificate(session, binding.serial_hex, actor=actor, now=now)
    ]


def user_ca_state(session: Session, serial: str) -> bool | None:
    """Whether the station holds the user CA: None when it needs none, False while pending."""
    row = session.get(UserCAInstall, serial)
    return None if row is None else row.installed_at is not None


def user_ca_installed(session: Session, serial: str, *, now: datetime) -> None:
    """The station accepted the user CA."""
    found = session.get(UserCAInstall, serial)
    if found is not None:
        found.installed_at = now
        session.add(found)
