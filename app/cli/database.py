"""Which database a CLI command uses, said on stderr, and no new one made behind the user's back.

Run outside the repository, ``./var`` would silently become a second, empty platform. So every
command names its database, and a command other than the servers and ``db upgrade`` refuses to
create one unless the user named the place (``--data-dir`` / ``--database-url``) or passed
``--create``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import add_common
from app.db import make_engine
from app.migrate import upgrade
from app.platform import Platform
from app.settings import Settings


def add_db_commands(subparsers: Any) -> None:
    """Add ``db upgrade`` to the ``chargeline`` parser."""
    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade_parser = db_sub.add_parser("upgrade", help="apply migrations up to the newest")
    add_common(upgrade_parser)
    upgrade_parser.set_defaults(handler=_db_upgrade, creates_database=True)


def _db_upgrade(_args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    sys.stdout.write(f"database at {platform.engine.url.render_as_string()} is up to date\n")
    return 0


class NoDatabase(Exception):
    """The command needs an existing database and there is none where it looked."""


def describe(url: str) -> str:
    """The URL without its password; a SQLite file as an absolute path."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        assert parsed.database is not None
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.render_as_string(hide_password=True)


def exists(url: str) -> bool:
    """A SQLite file that exists, or a server database that holds the platform's schema."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database in (None, "", ":memory:") or Path(str(parsed.database)).exists()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    except SQLAlchemyError as exc:
        raise NoDatabase(
            f"cannot reach the database {describe(url)}: {exc.__cause__ or exc}"
        ) from None
    finally:
        engine.dispose()


def announce(args: argparse.Namespace, settings: Settings, err: TextIO | None = None) -> None:
    """Say which database the command uses; refuse to create one it was not asked to.

    Raises:
        NoDatabase: no database there, and the command may not create one.
    """
    url = settings.resolved_database_url
    (err or sys.stderr).write(f"chargeline: using database {describe(url)}\n")
    named = getattr(args, "data_dir", None) is not None or getattr(args, "database_url", None)
    if getattr(args, "creates_database", False) or getattr(args, "create", False) or named:
        return
    if not exists(url):
        raise NoDatabase(
            f"no database at {describe(url)}. Run the command where the platform's data "
            "directory is, point to it with --data-dir or --database-url, or pass --create to "
            "make a new one here"
        )
