"""Members of a paired station, what each may do, and invitations to join.

Roles
    ``owner`` (the one who paired the station), ``co_owner`` (shares the station: a partner, a
    facility manager) and ``guest`` (may charge: a visitor, a tenant). The permission table is
    :data:`PERMISSIONS`; who may invite and remove whom is in :func:`can_invite` and
    :func:`can_remove`. A station has exactly one owner; ownership moves by unpairing, never by
    invitation.

Invitations
    :func:`new_invitation` returns the token to e-mail and the :class:`Invitation` to store.
    The token is 256 random bits, URL-safe; only its SHA-256 is stored (a plain hash suffices
    for a value this random; a database leak reveals no usable token). :func:`redeem` checks a
    looked-up invitation at an explicit ``now``: unknown, revoked, used and expired tokens are
    refused, and a redeemed invitation cannot be used again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from enrollment.errors import InvitationError, InvitationErrorReason

__all__ = [
    "DEFAULT_INVITATION_TTL",
    "PERMISSIONS",
    "Invitation",
    "InvitationError",
    "InvitationErrorReason",
    "Permission",
    "Role",
    "can_invite",
    "can_remove",
    "hash_invitation_token",
    "has_permission",
    "new_invitation",
    "new_invitation_token",
    "redeem",
    "revoke",
]

DEFAULT_INVITATION_TTL = timedelta(days=7)
_TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 128
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Role(StrEnum):
    OWNER = "owner"
    CO_OWNER = "co_owner"
    GUEST = "guest"


class Permission(StrEnum):
    START_CHARGING = "start_charging"
    STOP_OWN_CHARGING = "stop_own_charging"
    STOP_ANY_CHARGING = "stop_any_charging"
    SEE_OWN_SESSIONS = "see_own_sessions"
    SEE_ALL_SESSIONS = "see_all_sessions"
    GET_USER_CERTIFICATE = "get_user_certificate"
    REGISTER_RFID = "register_rfid"
    MANAGE_TARIFFS_AND_SCHEDULES = "manage_tariffs_and_schedules"
    INVITE_MEMBERS = "invite_members"
    REMOVE_MEMBERS = "remove_members"
    UNPAIR = "unpair"


_GUEST = frozenset(
    {
        Permission.START_CHARGING,
        Permission.STOP_OWN_CHARGING,
        Permission.SEE_OWN_SESSIONS,
        Permission.GET_USER_CERTIFICATE,
    }
)
_CO_OWNER = _GUEST | {
    Permission.STOP_ANY_CHARGING,
    Permission.SEE_ALL_SESSIONS,
    Permission.REGISTER_RFID,
    Permission.MANAGE_TARIFFS_AND_SCHEDULES,
    Permission.INVITE_MEMBERS,
    Permission.REMOVE_MEMBERS,
}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GUEST: _GUEST,
    Role.CO_OWNER: _CO_OWNER,
    Role.OWNER: _CO_OWNER | {Permission.UNPAIR},
}
"""What each role may do on its station. Guests see and stop only their own sessions."""

_INVITABLE: dict[Role, frozenset[Role]] = {
    Role.OWNER: frozenset({Role.CO_OWNER, Role.GUEST}),
    Role.CO_OWNER: frozenset({Role.GUEST}),
    Role.GUEST: frozenset(),
}


def has_permission(role: Role, permission: Permission) -> bool:
    """Whether a member with ``role`` may do ``permission`` on the station."""
    return permission in PERMISSIONS[role]


def can_invite(actor: Role, invitee: Role) -> bool:
    """Owners invite co-owners and guests, co-owners invite guests, guests invite nobody."""
    return invitee in _INVITABLE[actor]


def can_remove(actor: Role, target: Role, *, is_self: bool) -> bool:
    """Whether ``actor`` may remove a member with role ``target``.

    Anyone but the owner may leave (``is_self``); the owner leaves only by unpairing. Owners
    remove co-owners and guests; co-owners remove guests.
    """
    if is_self:
        return actor is not Role.OWNER
    return target in _INVITABLE[actor]


@dataclass(frozen=True, slots=True)
class Invitation:
    """A pending invitation as stored: never the token, only its hash."""

    token_hash: str
    station_serial: str
    role: Role
    email: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: str | None = None
    revoked_at: datetime | None = None


def new_invitation_token() -> str:
    """A fresh URL-safe token carrying 256 random bits."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def hash_invitation_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored and looked up.

    Raises:
        InvitationError: ``UNKNOWN`` for text that cannot be a token (too long, wrong
            alphabet), so hostile input is never hashed or looked up.
    """
    candidate = token.strip()
    if not candidate or len(candidate) > _MAX_TOKEN_LENGTH or not set(candidate) <= _TOKEN_CHARS:
        raise InvitationError(InvitationErrorReason.UNKNOWN)
    return hashlib.sha256(candidate.encode("ascii")).hexdigest()


def new_invitation(
    *,
    station_serial: str,
    role: Role,
    email: str,
    invited_by: str,
    now: datetime,
    ttl: timedelta = DEFAULT_INVITATION_TTL,
) -> tuple[str, Invitation]:
    """Create an invitation; return the token to send and the record to store.

    Raises:
        ValueError: ``role`` is owner, ``ttl`` is not positive, or ``now`` is naive. Whether
            the inviter may invite this role is :func:`can_invite`'s question, asked first.
    """
    if role is Role.OWNER:
        raise ValueError("ownership is not passed by invitation")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    token = new_invitation_token()
    invitation = Invitation(
        token_hash=hash_invitation_token(token),
        station_serial=station_serial,
        role=role,
        email=email,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + ttl,
    )
    return token, invitation


def redeem(invitation: Invitation | None, *, user: str, now: datetime) -> Invitation:
    """Accept an invitation found by its token hash; return it marked as used.

    Raises:
        InvitationError: ``UNKNOWN`` (nothing found), ``REVOKED``, ``USED`` or ``EXPIRED``,
            checked in that order.
    """
    if invitation is None:
        raise InvitationError(InvitationErrorReason.UNKNOWN)
    if invitation.revoked_at is not None:
        raise InvitationError(InvitationErrorReason.REVOKED)
    if invitation.used_at is not None:
        raise InvitationError(InvitationErrorReason.USED)
    if now >= invitation.expires_at:
        raise InvitationError(InvitationErrorReason.EXPIRED)
    return replace(invitation, used_at=now, used_by=user)


def revoke(invitation: Invitation, *, now: datetime) -> Invitation:
    """Withdraw a pending invitation.

    Raises:
        InvitationError: ``USED`` if it was already accepted (remove the member instead),
            ``REVOKED`` if it was already withdrawn.
    """
    if invitation.used_at is not None:
        raise InvitationError(InvitationErrorReason.USED)
    if invitation.revoked_at is not None:
        raise InvitationError(InvitationErrorReason.REVOKED)
    return replace(invitation, revoked_at=now)
