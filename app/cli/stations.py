# ruff: noqa: T201 - a command line prints
"""``chargeline stations``: register a station, list them, ask one for a certificate."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session

from app import audit
from app.cli.certificates import add_request_certificate_command
from app.cli.common import CLI_ACTOR, CliError, add_common
from app.cli.lists import add_station_list
from app.edge import station_passwords
from app.migrate import upgrade
from app.platform import Platform
from charging import registry
from charging.errors import ChargingError
from common.clock import utcnow


def add_station_commands(subparsers: Any) -> None:
    """Add ``stations add | list | request-certificate`` to the ``chargeline`` parser."""
    stations = subparsers.add_parser("stations", help="charging stations")
    stations_sub = stations.add_subparsers(dest="stations_command", required=True, metavar="ACTION")
    add = stations_sub.add_parser("add", help="register a station (security profile 1 or 2)")
    add_common(add)
    add.add_argument("station_id", help="the station's OCPP identity, as in /ocpp/{station_id}")
    add.add_argument("--password", required=True, help="16-40 characters (HTTP Basic)")
    add.add_argument(
        "--profile",
        type=int,
        choices=[1, 2],
        default=1,
        help="security profile: 1 = ws + Basic, 2 = wss + Basic",
    )
    add.set_defaults(handler=_add_station)
    add_station_list(stations_sub)
    add_request_certificate_command(stations_sub)


def _add_station(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        try:
            registry.add_station(
                session,
                args.station_id,
                args.password,
                passwords=station_passwords(),
                now=utcnow(),
                profile=args.profile,
            )
        except ChargingError as exc:
            raise CliError(str(exc)) from exc
        audit.record(
            session,
            CLI_ACTOR,
            "station.add",
            object_type="station",
            object_id=args.station_id,
            profile=args.profile,
        )
        session.commit()
    print(f"added station {args.station_id} (security profile {args.profile})")
    print(
        f"it connects to ws://{platform.settings.ocpp_host}:{platform.settings.ocpp_port}"
        f"/ocpp/{args.station_id} with HTTP Basic user {args.station_id}"
    )
    return 0
