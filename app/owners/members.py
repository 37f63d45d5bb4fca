"""Members of a station: invitations by e-mail, acceptance, listing, removal.

Acceptance decision: the caller must be logged in and the invitation's address must be theirs
(compared case-insensitively); an invitation forwarded to someone else is refused with 403.
Accepting verifies the caller's address (the link reached that mailbox). Removing a member
withdraws their cards from the station and revokes their user certificates bound to it
(:func:`cut_off`); pushing the new local list is the caller's (``app.owners.sync``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit
from app.ca import AlreadyRevoked, CertificateAuthority, UnknownCertificate
from app.identity.tables import User
from app.owners import cards, history
from app.owners.access import membership
from app.owners.accounts import normalise_email
from app.owners.errors import Conflict, NotAllowed, NotVisible, TokenRefused
from app.owners.tables import InvitationRow, Membership, UserCertificateBinding
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
from pki.revocation import RevocationReason


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
    email: str,
    role: Role,
    *,
    actor: audit.Actor,
    now: datetime,
) -> tuple[str, InvitationRow]:
    """An invitation to ``email`` as ``role``; the token to mail and the stored row.

    Raises: BadInput (address), NotAllowed (the inviter's role may not invite ``role``).
    """
    address = normalise_email(email)
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
    audit.record(
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
    session: Session, token: str, user: User, *, actor: audit.Actor, now: datetime
) -> Membership:
    """Join the station the invitation names.

    Raises: TokenRefused (unknown, revoked, used, expired), NotAllowed (another address),
    Conflict (``already-member``).
    """
    try:
        token_hash = hash_invitation_token(token)
        row = session.exec(
            select(InvitationRow).where(InvitationRow.token_hash == token_hash)
        ).first()
        redeem(None if row is None else _as_invitation(row), user=user.id, now=now)
    except InvitationError as exc:
        raise TokenRefused("invitation", exc.reason.value) from None
    assert row is not None
    if row.email != user.email.lower():
        raise NotAllowed("this invitation was sent to another e-mail address")
    if membership(session, row.station_serial, user.id) is not None:
        raise Conflict("already-member", "you are already a member of this station")
    spent = session.execute(
        update(InvitationRow)
        .where(col(InvitationRow.id) == row.id, col(InvitationRow.used_at).is_(None))
        .values(used_at=now, used_by=user.id)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenRefused("invitation", "used")
    joined = Membership(
        station_serial=row.station_serial,
        user_id=user.id,
        role=row.role,
        invited_by=row.invited_by,
        created_at=now,
    )
    try:
        session.add(joined)
        session.flush()
    except IntegrityError:
        raise Conflict("already-member", "you are already a member of this station") from None
    history.begin(session, row.station_serial, user.id, row.role, now=now)
    user.email_verified = True
    session.add(user)
    audit.record(
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
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.station_serial == serial)
        .order_by(col(Membership.created_at))
    ).all()
    return [Member(m.user_id, u.email, m.role, m.created_at) for m, u in rows]


def remove(
    session: Session,
    remover: Membership,
    user_id: str,
    *,
    ca: CertificateAuthority,
    actor: audit.Actor,
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
    result = cut_off(session, ca, remover.station_serial, user_id, actor=actor, now=now)
    audit.record(
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
    ca: CertificateAuthority,
    serial: str,
    user_id: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> CutOff:
    """Withdraw the user's cards from the station and revoke their certificates bound to it."""
    withdrawn = cards.cut_off(session, serial, user_id)
    revoked = []
    bindings = session.exec(
        select(UserCertificateBinding).where(
            UserCertificateBinding.user_id == user_id,
            UserCertificateBinding.station_serial == serial,
        )
    ).all()
    for binding in bindings:
        try:
            ca.revoke(
                session,
                binding.serial_hex,
                RevocationReason.AFFILIATION_CHANGED,
                actor=actor,
                now=now,
            )
        except (AlreadyRevoked, UnknownCertificate):
            continue
        revoked.append(binding.serial_hex)
    return CutOff(withdrawn, revoked)
