"""Who may see and do what on a station: memberships and the permission table.

One rule for visibility: a user sees a station only while they hold a membership on it;
anything else answers "not found" (:class:`NotVisible`), so a stranger, a removed guest or a
former owner learns nothing. A member whose role lacks the permission gets :class:`NotAllowed`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from enrollment.errors import InvalidSerial
from enrollment.identifiers import parse_serial
from enrollment.invitations import Permission, Role, has_permission
from enrollment.ownership.errors import NotAllowed, NotVisible
from enrollment.ownership.tables import Membership


def canonical_serial(text: str) -> str:
    """The canonical serial, or :class:`NotVisible` for text that cannot name a station."""
    try:
        return parse_serial(text)
    except InvalidSerial:
        raise NotVisible("station") from None


def membership(session: Session, serial: str, user_id: str) -> Membership | None:
    return session.exec(
        select(Membership).where(Membership.station_serial == serial, Membership.user_id == user_id)
    ).first()


def require_member(session: Session, serial_text: str, user_id: str) -> Membership:
    """The user's membership on the station. Raises :class:`NotVisible`."""
    found = membership(session, canonical_serial(serial_text), user_id)
    if found is None:
        raise NotVisible("station")
    return found


def require_permission(
    session: Session, serial_text: str, user_id: str, permission: Permission
) -> Membership:
    """Raises :class:`NotVisible` (no membership) or :class:`NotAllowed` (role too weak)."""
    found = require_member(session, serial_text, user_id)
    if not has_permission(Role(found.role), permission):
        raise NotAllowed()
    return found


def memberships_of(session: Session, user_id: str) -> Sequence[Membership]:
    return session.exec(select(Membership).where(Membership.user_id == user_id)).all()


def stations_with(session: Session, user_id: str, permission: Permission) -> list[str]:
    """Serials of the stations where the user's role grants ``permission``."""
    return sorted(
        m.station_serial
        for m in memberships_of(session, user_id)
        if has_permission(Role(m.role), permission)
    )


def visible_stations(session: Session, user_id: str) -> set[str]:
    return {m.station_serial for m in memberships_of(session, user_id)}


def has_members(session: Session, serial: str) -> bool:
    """Whether anyone holds a membership on the station."""
    member = select(col(Membership.user_id)).where(col(Membership.station_serial) == serial)
    return session.exec(member.limit(1)).first() is not None
