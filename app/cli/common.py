"""What every command group of the CLI shares: database options, the audit actor, errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from app import audit
from app.platform import Platform

CLI_ACTOR = audit.Actor("cli", "local")

Handler = Callable[[argparse.Namespace, Platform], int]


class CliError(Exception):
    """A command failed for a reason the user can act on; printed without a traceback."""


def add_common(parser: argparse.ArgumentParser) -> None:
    """The options that name the platform's database (every command that opens it)."""
    parser.add_argument("--data-dir", help="where SQLite and files live (default ./var)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite under data-dir)")
    parser.add_argument("--ocpp-host", help=argparse.SUPPRESS)
    parser.add_argument(
        "--create", action="store_true", help="make a new database if there is none yet"
    )
