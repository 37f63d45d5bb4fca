"""Accounts, clients and the OAuth2 grants, as functions over a database session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import audit
from app.identity.jwt_tokens import ROLES, Principal
from app.identity.ratelimit import Throttle
from app.identity.secrets import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    digest,
    digest_matches,
    hash_password,
    new_token,
    verify_password,
)
from app.identity.tables import OAuthClient, RefreshToken, User
from common.clock import as_utc


class AuthError(Exception):
    """An OAuth2 error (RFC 6749 5.2): ``code`` is the ``error`` value a client sees."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class AccountError(Exception):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class IssuedClient:
    client_id: str
    client_secret: str
    roles: tuple[str, ...]


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(f"unknown role(s) {unknown}; choose from {sorted(ROLES)}")
    return roles


def check_password_strength(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters long"
        )


def create_user(
    session: Session,
    email: str,
    password: str,
    roles: list[str],
    *,
    actor: audit.Actor,
    verified: bool = False,
) -> User:
    check_password_strength(password)
    email = email.strip().lower()
    if session.exec(select(User).where(User.email == email)).first():
        raise AccountError(f"a user with e-mail {email} exists already")
    user = User(
        email=email,
        password_hash=hash_password(password),
        roles=" ".join(check_roles(roles)),
        email_verified=verified,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        email=email,
        roles=roles,
    )
    return user


def create_client(
    session: Session, name: str, roles: list[str], *, actor: audit.Actor
) -> IssuedClient:
    secret = new_token()
    client = OAuthClient(
        client_id=f"cl_{uuid.uuid4().hex[:20]}",
        name=name,
        secret_hash=digest(secret),
        roles=" ".join(check_roles(roles)),
    )
    session.add(client)
    audit.record(
        session,
        actor,
        "client.create",
        object_type="client",
        object_id=client.client_id,
        name=name,
        roles=roles,
    )
    return IssuedClient(client.client_id, secret, tuple(roles))


def authenticate_client(session: Session, client_id: str, secret: str) -> Principal:
    client = session.get(OAuthClient, client_id)
    if client is None or not digest_matches(secret, client.secret_hash):
        raise AuthError("invalid_client", "unknown client or wrong client secret")
    if client.disabled:
        raise AuthError("invalid_client", "client is disabled")
    return Principal(client.client_id, "client", frozenset(client.roles.split()))


def user_principal(user: User) -> Principal:
    return Principal(user.id, "user", frozenset(user.role_list))


def password_login(
    session: Session,
    email: str,
    password: str,
    *,
    limiter: Throttle,
    source: str,
    now: datetime,
) -> User:
    """Check a password login, throttled per (account, address), address and account.

    Raises:
        TooManyAttempts: before the password is looked at (see :mod:`app.identity.ratelimit`).
        AuthError: wrong e-mail address or password, or a disabled account.
    """
    email = email.strip().lower()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    attempt = limiter.admit(engine, email, source, now=now)
    user = session.exec(select(User).where(User.email == email)).first()
    if not verify_password(password, user.password_hash if user else None) or user is None:
        session.rollback()  # end the read snapshot: the failure count writes on its own
        limiter.failed(engine, attempt, now=now, actor=audit.Actor(f"login:{email}", source))
        audit.record(
            session,
            audit.Actor(f"login:{email}", source),
            "login.failure",
            object_type="user",
            object_id=user.id if user else "",
            outcome="failure",
        )
        session.commit()
        raise AuthError("invalid_grant", "wrong e-mail address or password")
    session.rollback()  # never hold two connections at once: the throttle writes on its own
    limiter.succeeded(engine, attempt)
    if user.disabled:
        audit.record(
            session,
            audit.Actor(f"user:{user.id}", source),
            "login.refused",
            object_type="user",
            object_id=user.id,
            outcome="failure",
            reason="disabled",
        )
        session.commit()
        raise AuthError("invalid_grant", "this account is disabled")
    audit.record(
        session,
        audit.Actor(f"user:{user.id}", source),
        "login.success",
        object_type="user",
        object_id=user.id,
    )
    return user


def issue_refresh_token(
    session: Session, user: User, *, ttl: timedelta, now: datetime, family_id: str | None = None
) -> str:
    token = new_token()
    session.add(
        RefreshToken(
            token_hash=digest(token),
            family_id=family_id or str(uuid.uuid4()),
            user_id=user.id,
            issued_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def rotate_refresh_token(
    session: Session, token: str, *, ttl: timedelta, now: datetime, source: str
) -> tuple[User, str]:
    """Spend ``token`` and return its successor.

    A token spent twice means it leaked: the whole family is revoked (RFC 9700 4.14.2), so
    neither the thief nor the user can go on with it and the user has to log in again.
    The token is claimed with one conditional UPDATE before anything is read, so that of two
    concurrent spends exactly one wins, on PostgreSQL and on SQLite alike (a SQLite
    transaction that reads first cannot wait for a concurrent writer).
    """
    token_hash = digest(token)
    claimed = session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.token_hash) == token_hash,
            col(RefreshToken.used_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.expires_at) > now,
        )
        .values(used_at=now)
    )
    row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_hash)).first()
    if row is None:
        raise AuthError("invalid_grant", "unknown refresh token")
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if row.revoked_at is not None:
            raise AuthError("invalid_grant", "refresh token revoked")
        if as_utc(row.expires_at) <= now:
            raise AuthError("invalid_grant", "refresh token expired")
        revoke_family(session, row.family_id, now=now)
        audit.record(
            session,
            audit.Actor(f"user:{row.user_id}", source),
            "refresh_token.reuse",
            object_type="user",
            object_id=row.user_id,
            outcome="failure",
            family=row.family_id,
        )
        session.commit()
        raise AuthError("invalid_grant", "refresh token already used; all its sessions revoked")
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise AuthError("invalid_grant", "this account is disabled")
    return user, issue_refresh_token(session, user, ttl=ttl, now=now, family_id=row.family_id)


def revoke_family(session: Session, family_id: str, *, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
