"""Short-lived user certificates for guests and owners (local talk to the station).

The caller names the stations (default: every station where their role allows a user
certificate). A station they may not use refuses the whole request with :class:`NotAllowed`,
without saying which. The certificate's SAN binds it to the stations
(``CertificateAuthority.issue_user_certificate``); the bindings are kept so that removing a
member revokes exactly their certificates. Every bound station must hold the user CA: a
:class:`UserCAInstall` row marks it pending until the station accepts ``InstallCertificate``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app import audit
from app.ca import CertificateAuthority, IssuedCertificate
from app.owners.access import canonical_serial, membership, stations_with
from app.owners.errors import NotAllowed, NotVisible
from app.owners.tables import UserCAInstall, UserCertificateBinding
from enrollment.invitations import Permission, Role, has_permission

DEFAULT_VALIDITY = timedelta(hours=24)


def issue(
    session: Session,
    ca: CertificateAuthority,
    csr_pem: str,
    *,
    user_id: str,
    stations: list[str] | None,
    validity: timedelta = DEFAULT_VALIDITY,
    actor: audit.Actor,
    now: datetime,
) -> tuple[IssuedCertificate, list[str]]:
    """Issue the certificate; return it with the stations it is bound to.

    Raises:
        NotAllowed: no station given or usable, or one the user may not use;
        CsrRejected / IssuanceRefused (from the CA).
    """
    if stations is None:
        serials = stations_with(session, user_id, Permission.GET_USER_CERTIFICATE)
    else:
        serials = sorted({_usable(session, text, user_id) for text in stations})
    if not serials:
        raise NotAllowed("you may not use any station with a user certificate")
    issued = ca.issue_user_certificate(
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
