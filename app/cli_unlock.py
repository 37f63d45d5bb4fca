# ruff: noqa: T201 - a command line prints
"""``chargeline admin unlock``: lift a login or handshake lockout, from every address."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session, select

from app import audit
from app.edge import handshake_throttle
from app.identity.tables import User
from app.platform import Platform
from charging.tables import Station

CLI_ACTOR = audit.Actor("cli", "local")


def add_unlock_command(admin_sub: Any, common: Any) -> None:
    """Add ``unlock user EMAIL`` and ``unlock station ID`` under ``admin``."""
    unlock = admin_sub.add_parser(
        "unlock", help="clear failed-login or failed-handshake counts (audited)"
    )
    common(unlock)
    unlock.add_argument("kind", choices=["user", "station"])
    unlock.add_argument("subject", help="the user's e-mail address or id, or the station id")
    unlock.set_defaults(handler=_unlock)


def _unlock(args: argparse.Namespace, platform: Platform) -> int:
    from app.cli import CliError

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
