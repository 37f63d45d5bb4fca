"""App accounts: sign-up with e-mail verification, password reset.

Decisions:

- Sign-up answers the same whether the address is new or taken (no account enumeration); a
  taken address gets a "you already have an account" mail instead of a verification link.
- Unverified users may log in through ``/oauth/token`` (to see their account and ask for a new
  link) but may not pair, invite, register cards, get certificates or charge
  (:class:`NotVerified`, :func:`require_verified`). Accepting an invitation or confirming a
  password reset verifies the address too: the link proved the mailbox (:func:`mark_verified`).
- Link tokens carry 256 random bits, are stored as SHA-256 only, expire, and are spent by a
  conditional ``UPDATE ... WHERE used_at IS NULL`` so that two concurrent uses cannot both win.
- A password reset revokes every refresh token of the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit
from app.identity.secrets import digest, hash_password, new_token
from app.identity.service import check_password_strength, create_user
from app.identity.tables import EmailToken, RefreshToken, User
from common.clock import as_utc

VERIFICATION_TTL = timedelta(hours=48)
RESET_TTL = timedelta(minutes=30)
MAX_TOKEN_LENGTH = 128


class AccountLinkError(Exception):
    """Root of the account services' refusals (``app.api.app_common`` maps each to a status)."""


class BadInput(AccountLinkError):  # noqa: N818
    """A well-formed value the service refuses (422); ``slug`` is the problem type."""

    def __init__(self, slug: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.extensions: dict[str, Any] = extensions


class TokenRefused(AccountLinkError):  # noqa: N818
    """A verification or reset link that is ``unknown``, ``used`` or ``expired``."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what} link is {reason}" if reason != "unknown" else f"unknown {what}")
        self.what = what
        self.reason = reason


class NotVerified(AccountLinkError):  # noqa: N818
    def __init__(self) -> None:
        super().__init__("verify your e-mail address first")


class UnknownAccount(AccountLinkError):
    """No enabled account with this id (the app answers 404 ``user not found``)."""

    def __init__(self) -> None:
        super().__init__("user not found")


class Purpose(StrEnum):
    VERIFY = "verify"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class LinkToken:
    """A token to mail to ``email``; ``new_account`` is False when sign-up met a known address."""

    email: str
    token: str | None
    new_account: bool = True


def normalise_email(text: str) -> str:
    """The address in lower case.

    Raises :class:`BadInput` (``invalid-email``, naming the ``email`` field in ``errors`` as
    request validation does).
    """
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadInput(
            "invalid-email",
            f"email: not a valid e-mail address: {exc}",
            errors=[{"field": "email", "message": str(exc)}],
        ) from None
    return checked.normalized.lower()


def _issue(session: Session, user: User, purpose: Purpose, ttl: timedelta, now: datetime) -> str:
    token = new_token()
    session.add(
        EmailToken(
            token_hash=digest(token),
            user_id=user.id,
            purpose=purpose.value,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def _spend(session: Session, token: str, purpose: Purpose, now: datetime) -> User:
    """Spend a link token once. Raises :class:`TokenRefused` (unknown, used, expired)."""
    what = "verification" if purpose is Purpose.VERIFY else "password reset"
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused(what, "unknown")
    row = session.exec(select(EmailToken).where(EmailToken.token_hash == digest(token))).first()
    if row is None or row.purpose != purpose.value:
        raise TokenRefused(what, "unknown")
    if row.used_at is not None:
        raise TokenRefused(what, "used")
    if as_utc(row.expires_at) <= now:
        raise TokenRefused(what, "expired")
    spent = session.execute(
        update(EmailToken)
        .where(col(EmailToken.id) == row.id, col(EmailToken.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenRefused(what, "used")
    user = session.get(User, row.user_id)
    if user is None:
        raise TokenRefused(what, "unknown")
    return user


def sign_up(
    session: Session, email: str, password: str, *, actor: audit.Actor, now: datetime
) -> LinkToken:
    """Create an unverified ``owner`` account and a verification token.

    Raises:
        BadInput: malformed address; AccountError: the password is too short or too long.
    """
    address = normalise_email(email)
    check_password_strength(password)
    if session.exec(select(User).where(User.email == address)).first() is not None:
        audit.record(session, actor, "user.signup_repeated", object_type="user", email=address)
        return LinkToken(address, None, new_account=False)
    user = create_user(session, address, password, ["owner"], actor=actor)
    return LinkToken(address, _issue(session, user, Purpose.VERIFY, VERIFICATION_TTL, now))


def verify_email(session: Session, token: str, *, actor: audit.Actor, now: datetime) -> User:
    """Mark the token's account verified. Raises :class:`TokenRefused`."""
    user = _spend(session, token, Purpose.VERIFY, now)
    user.email_verified = True
    session.add(user)
    audit.record(session, actor, "user.email_verified", object_type="user", object_id=user.id)
    return user


def resend_verification(session: Session, user: User, *, now: datetime) -> LinkToken | None:
    """A fresh verification token, or ``None`` when the address is verified already."""
    if user.email_verified:
        return None
    return LinkToken(user.email, _issue(session, user, Purpose.VERIFY, VERIFICATION_TTL, now))


def request_reset(
    session: Session, email: str, *, actor: audit.Actor, now: datetime
) -> LinkToken | None:
    """A reset token for a known, enabled account; ``None`` otherwise (the caller answers the
    same either way). Raises :class:`BadInput` for a malformed address."""
    address = normalise_email(email)
    user = session.exec(select(User).where(User.email == address)).first()
    audit.record(
        session,
        actor,
        "user.reset_requested",
        object_type="user",
        object_id=user.id if user else "",
    )
    if user is None or user.disabled:
        return None
    return LinkToken(address, _issue(session, user, Purpose.RESET, RESET_TTL, now))


def confirm_reset(
    session: Session, token: str, password: str, *, actor: audit.Actor, now: datetime
) -> User:
    """Set a new password and revoke every refresh token of the account.

    Raises:
        AccountError: weak password (checked before the token is spent); TokenRefused.
    """
    check_password_strength(password)
    user = _spend(session, token, Purpose.RESET, now)
    user.password_hash = hash_password(password)
    user.email_verified = True
    session.add(user)
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user.id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    audit.record(session, actor, "user.password_reset", object_type="user", object_id=user.id)
    return user


def require_verified(session: Session, user_id: str) -> User:
    """The user, who must have verified their e-mail address.

    Raises: :class:`UnknownAccount` (missing or disabled), :class:`NotVerified`.
    """
    user = session.get(User, user_id)
    if user is None or user.disabled:
        raise UnknownAccount()
    if not user.email_verified:
        raise NotVerified()
    return user


def mark_verified(session: Session, user: User) -> None:
    """A link the platform mailed reached the user's mailbox: the address is theirs."""
    user.email_verified = True
    session.add(user)
