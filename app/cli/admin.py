# ruff: noqa: T201 - a command line prints
"""``chargeline admin``: accounts, OAuth2 clients, and lifting a login or handshake lockout."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from sqlmodel import Session, select

from app.cli.common import CLI_ACTOR, CliError, add_common
from app.edge import handshake_throttle
from app.identity import service
from app.identity.tables import User
from app.migrate import upgrade
from app.platform import Platform
from charging.tables import Station


def add_admin_commands(subparsers: Any) -> None:
    """Add ``admin create-user | create-client | unlock`` to the ``chargeline`` parser."""
    admin = subparsers.add_parser("admin", help="accounts and OAuth2 clients")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    user = admin_sub.add_parser("create-user", help="create a user (e.g. the first admin)")
    add_common(user)
    user.add_argument("--email", required=True)
    user.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["admin", "support", "manufacturing", "owner", "guest"],
    )
    user.add_argument("--password", help="at least 10 characters; a random one is made if absent")
    user.set_defaults(handler=_create_user)
    client = admin_sub.add_parser("create-client", help="create an OAuth2 client for a script")
    add_common(client)
    client.add_argument("--name", required=True)
    client.add_argument(
        "--role", action="append", required=True, choices=["admin", "manufacturing"]
    )
    client.set_defaults(handler=_create_client)
    _add_unlock_command(admin_sub)


def has_admin(platform: Platform) -> bool:
    """Whether an enabled admin account exists (the server's banner says how to make one)."""
    with Session(platform.engine) as session:
        users = session.exec(select(User).where(User.disabled == False)).all()  # noqa: E712
        return any("admin" in u.role_list for u in users)


def _create_user(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    password = args.password or secrets.token_urlsafe(15)
    with Session(platform.engine) as session:
        user = service.create_user(
            session, args.email, password, args.role, actor=CLI_ACTOR, verified=True
        )
        session.commit()
        print(f"created user {user.email} ({' '.join(args.role)}), id {user.id}")
    if not args.password:
        print(f"password: {password}")
    print(
        "get a token:\n"
        f"  curl -s -d grant_type=password -d username={args.email} -d password=... "
        f"{platform.settings.api_url}/oauth/token"
    )
    return 0


def _create_client(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        issued = service.create_client(session, args.name, args.role, actor=CLI_ACTOR)
        session.commit()
    print(f"client_id:     {issued.client_id}")
    print(f"client_secret: {issued.client_secret}   (shown once; store it now)")
    return 0


def _add_unlock_command(admin_sub: Any) -> None:
    """Add ``unlock user EMAIL`` and ``unlock station ID`` under ``admin``."""
    unlock = admin_sub.add_parser(
        "unlock", help="clear failed-login or failed-handshake counts (audited)"
    )
    add_common(unlock)
    unlock.add_argument("kind", choices=["user", "station"])
    unlock.add_argument("subject", help="the user's e-mail address or id, or the station id")
    unlock.set_defaults(handler=_unlock)


def _unlock(args: argparse.Namespace, platform: Platform) -> int:
    try:
        name = _subject(platform, args.kind, args.subject)
        if name is None:
            raise CliError(f"no {args.kind} {args.subject!r}")
        limiter = platform.login_limiter if args.kind == "user" else handshake_throttle()
        cleared = limiter.unlock(platform.engine, name, actor=CLI_ACTOR)
    finally:
        platform.engine.dispose()
    print(f"unlocked {args.kind} {name}: {cleared} failure counter(s) cleared")
    return 0


def _subject(platform: Platform, kind: str, subject: str) -> str | None:
    """The key the throttle counts under: a user's e-mail address, or the station id."""
    with Session(platform.engine) as session:
        if kind == "station":
            return subject if session.get(Station, subject) is not None else None
        user = session.exec(
            select(User).where((User.email == subject.strip().lower()) | (User.id == subject))
        ).first()
        return None if user is None else user.email
