# ruff: noqa: T201 - a command line prints
"""The chargeline command line: process roles, database, accounts, stations, PKI, devices,
firmware, rollouts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from app.cli import database
from app.cli.admin import add_admin_commands
from app.cli.common import CliError, Handler
from app.cli.devices import add_device_commands
from app.cli.firmware import add_firmware_commands
from app.cli.lists import add_transaction_commands
from app.cli.pki import add_pki_commands
from app.cli.rollouts import add_rollout_commands
from app.cli.serve import add_role_commands
from app.cli.simulate import add_simulate_command
from app.cli.stations import add_station_commands
from app.identity import service
from app.platform import build_platform
from app.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_role_commands(sub)
    add_station_commands(sub)
    add_transaction_commands(sub)
    database.add_db_commands(sub)
    add_admin_commands(sub)
    add_simulate_command(sub)
    add_pki_commands(sub)
    add_device_commands(sub)
    add_firmware_commands(sub)
    add_rollout_commands(sub)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    names = (
        "data_dir",
        "database_url",
        "api_host",
        "api_port",
        "ocpp_port",
        "ocpp_tls_port",
        "ftp_port",
        "log_format",
    )
    overrides: dict[str, Any] = {
        name: getattr(args, name) for name in names if getattr(args, name, None) is not None
    }
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if not getattr(args, "needs_platform", True):
            standalone: Callable[[argparse.Namespace], int] = args.handler
            return standalone(args)  # e.g. the simulator: a client, no database of its own
        settings = settings_from(args)
        database.announce(args, settings)
        platform = build_platform(settings)
        handler: Handler = args.handler
        try:
            return handler(args, platform)
        finally:
            platform.engine.dispose()
    except ValidationError as exc:
        print(f"chargeline: invalid settings: {exc}", file=sys.stderr)
    except (CliError, service.AccountError, database.NoDatabase) as exc:
        print(f"chargeline: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2
