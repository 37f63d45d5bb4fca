"""Members of a station: invitations by e-mail, acceptance, listing, removal.

Acceptance decision: the caller must be logged in and the invitation's address must be theirs
(compared case-insensitively); an invitation forwarded to someone else is refused with 403.
Accepting verifies the caller's address (the link reached that mailbox; the account is the
platform's, so the caller marks it). Removing a member withdraws their cards from the station
(through the :class:`~enrollment.ownership.ports.CardWithdrawal` port: cards are
:mod:`charging`'s) and revokes their user certificates bound to it (:func:`cut_off`); pushing
the new local list is the caller's (``charging.sync``). Invitation addresses come normalised
by the caller (the platform's accounts own the e-mail rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, column, table, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common.clock import as_utc
from enrollment.errors import InvitationError
from enrollment.invitations import (
    Invitation,
    Role,
    can_invite,
    can_remove,
    hash_invitation_token,
    new_invitation,
    redeem,
)
from enrollment.ownership import history
from enrollment.ownership.access import membership
from enrollment.ownership.certificates import revoke_bound
from enrollment.ownership.errors import Conflict, NotAllowed, NotVisible, TokenRefused
from enrollment.ownership.ports import (
    AuditTrail,
    CardWithdrawal,
    CertificateIssuer,
    IssuedUserCertificate,
)
from enrollment.ownership.tables import InvitationRow, Membership

# The platform's accounts, by table name: a member's address is all this package reads of them.
_USERS = table("users", column("id", String), column("email", String))


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    email: str
    role: str
    since: datetime


@dataclass(frozen=True, slots=True)
class CutOff:
    cards: list[str]
    certificates: list[str]


def invite(
    session: Session,
    inviter: Membership,
    address: str,
    role: Role,
    *,
    audit: AuditTrail,
    actor: Any,
    now: datetime,
) -> tuple[str, InvitationRow]:
    """An invitation to ``address`` (normalised) as ``role``; the token to mail and the row.

    Raises: NotAllowed (the inviter's role may not invite ``role``).
    """
    if role is Role.OWNER or not can_invite(Role(inviter.role), role):
        raise NotAllowed(f"a {inviter.role} may not invite a {role.value}")
    token, invitation = new_invitation(
        station_serial=inviter.station_serial,
        role=role,
        email=address,
        invited_by=inviter.user_id,
        now=now,
    )
    row = InvitationRow(
        token_hash=invitation.token_hash,
        station_serial=invitation.station_serial,
        role=invitation.role.value,
        email=invitation.email,
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )
    session.add(row)
    audit(
        session,
        actor,
        "member.invite",
        object_type="device",
        object_id=inviter.station_serial,
        email=address,
        role=role.value,
    )
    return token, row


def _as_invitation(row: InvitationRow) -> Invitation:
    return Invitation(
        token_hash=row.token_hash,
        station_serial=row.station_serial,
        role=Role(row.role),
        email=row.email,
        invited_by=row.invited_by,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        used_at=row.used_at,
        used_by=row.used_by,
        revoked_at=row.revoked_at,
    )


def accept(
    session: Session,
    token: str,
    user_id: str,
    email: str,
    *,
    audit: AuditTrail,
    actor: Any,
    now: datetime,
) -> Membership:
    """Join the station the invitation names, as the account ``user_id`` with ``email``.

    Raises: TokenRefused (unknown, revoked, used, expired), NotAllowed (another address),
    Conflict (``already-member``).
    """
    try:
        token_hash = hash_invitation_token(token)
        row = session.exec(
            select(InvitationRow).where(InvitationRow.token_hash == token_hash)
        ).first()
        redeem(None if row is None else _as_invitation(row), user=user_id, now=now)
    except InvitationError as exc:
        raise TokenRefused("invitation", exc.reason.value) from None
    assert row is not None
    if row.email != email.lower():
        raise NotAllowed("this invitation was sent to another e-mail address")
    if membership(session, row.station_serial, user_id) is not None:
        raise Conflict("already-member", "you are already a member of this station")
    spent = session.execute(
        update(InvitationRow)
        .where(col(InvitationRow.id) == row.id, col(InvitationRow.used_at).is_(None))
        .values(used_at=now, used_by=user_id)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenRefused("invitation", "used")
    joined = Membership(
        station_serial=row.station_serial,
        user_id=user_id,
        role=row.role,
        invited_by=row.invited_by,
        created_at=now,
    )
    try:
        session.add(joined)
        session.flush()
    except IntegrityError:
        raise Conflict("already-member", "you are already a member of this station") from None
    history.begin(session, row.station_serial, user_id, row.role, now=now)
    audit(
        session,
        actor,
        "member.join",
        object_type="device",
        object_id=row.station_serial,
        role=row.role,
    )
    return joined


def members(session: Session, serial: str) -> list[Member]:
    rows = session.exec(
        select(Membership, _USERS.c.email)
        .join(_USERS, _USERS.c.id == col(Membership.user_id))
        .where(Membership.station_serial == serial)
        .order_by(col(Membership.created_at))
    ).all()
    return [Member(m.user_id, email, m.role, m.created_at) for m, email in rows]


def remove(
    session: Session,
    remover: Membership,
    user_id: str,
    *,
    issuer: CertificateIssuer[IssuedUserCertificate],
    withdraw_cards: CardWithdrawal,
    audit: AuditTrail,
    actor: Any,
    now: datetime,
) -> CutOff:
    """Remove a member (or leave); cut them off the station.

    Raises: NotVisible (no such member), NotAllowed (the role may not remove them).
    """
    target = membership(session, remover.station_serial, user_id)
    if target is None:
        raise NotVisible("member")
    is_self = target.user_id == remover.user_id
    if not can_remove(Role(remover.role), Role(target.role), is_self=is_self):
        raise NotAllowed()
    session.delete(target)
    history.end(session, remover.station_serial, now=now, user_id=user_id)
    result = cut_off(
        session,
        remover.station_serial,
        user_id,
        issuer=issuer,
        withdraw_cards=withdraw_cards,
        actor=actor,
        now=now,
    )
    audit(
        session,
        actor,
        "member.remove",
        object_type="device",
        object_id=remover.station_serial,
        user_id=user_id,
        cards=result.cards,
        certificates=result.certificates,
    )
    return result


def cut_off(
    session: Session,
    serial: str,
    user_id: str,
    *,
    issuer: CertificateIssuer[IssuedUserCertificate],
    withdraw_cards: CardWithdrawal,
    actor: Any,
    now: datetime,
) -> CutOff:
    """Withdraw the user's cards from the station and revoke their certificates bound to it."""
    withdrawn = withdraw_cards(session, serial, user_id)
    revoked = revoke_bound(session, issuer, serial, user_id, actor=actor, now=now)
    return CutOff(withdrawn, revoked)
