"""The chargeline command line: process roles, database, accounts, stations, PKI, devices."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from app import audit, cli_database
from app.cli_simulate import add_simulate_command
from app.identity import service
from app.identity.tables import User
from app.platform import Platform, build_platform
from app.settings import Settings

CLI_ACTOR = audit.Actor("cli", "local")

Handler = Callable[[argparse.Namespace, Platform], int]


class CliError(Exception):
    """A command failed for a reason the user can act on; printed without a traceback."""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="where SQLite and files live (default ./var)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default SQLite under data-dir)")
    parser.add_argument("--ocpp-host", help=argparse.SUPPRESS)
    parser.add_argument(
        "--create", action="store_true", help="make a new database if there is none yet"
    )


def _ports(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", dest="api_host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--api-port", type=int, help="REST API and dashboard (default 8000)")
    parser.add_argument("--ocpp-port", type=int, help="OCPP profile 1, ws (default 9000)")
    parser.add_argument("--ocpp-tls-port", type=int, help="OCPP profiles 2-3, wss (default 9443)")
    parser.add_argument("--ftp-port", type=int, help="FTP firmware downloads (default 2121)")
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="log lines as text (default) or JSON"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, text in (
        ("serve", "run the whole platform in one process"),
        ("edge", "run the OCPP gateway and charging core only"),
        ("api", "run the REST API only"),
    ):
        role = sub.add_parser(name, help=text)
        _common(role)
        _ports(role)
        role.set_defaults(handler=_serve, role=name, creates_database=True)

    stations = sub.add_parser("stations", help="charging stations")
    stations_sub = stations.add_subparsers(dest="stations_command", required=True, metavar="ACTION")
    add = stations_sub.add_parser("add", help="register a station (security profile 1 or 2)")
    _common(add)
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
    from app.cli_certificates import add_request_certificate_command
    from app.cli_lists import add_station_list, add_transaction_commands

    add_station_list(stations_sub, _common)
    add_transaction_commands(sub, _common)
    add_request_certificate_command(stations_sub, _common, CliError)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the newest")
    _common(upgrade)
    upgrade.set_defaults(handler=_db_upgrade, creates_database=True)

    admin = sub.add_parser("admin", help="accounts and OAuth2 clients")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    user = admin_sub.add_parser("create-user", help="create a user (e.g. the first admin)")
    _common(user)
    user.add_argument("--email", required=True)
    user.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["admin", "manufacturing", "owner", "guest"],
    )
    user.add_argument("--password", help="at least 10 characters; a random one is made if absent")
    user.set_defaults(handler=_create_user)
    client = admin_sub.add_parser("create-client", help="create an OAuth2 client for a script")
    _common(client)
    client.add_argument("--name", required=True)
    client.add_argument(
        "--role", action="append", required=True, choices=["admin", "manufacturing"]
    )
    client.set_defaults(handler=_create_client)
    from app.cli_unlock import add_unlock_command

    add_unlock_command(admin_sub, _common)
    add_simulate_command(sub)
    from app.cli_pki import add_pki_commands

    add_pki_commands(sub)
    from app.cli_devices import add_device_commands

    add_device_commands(sub)
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
        cli_database.announce(args, settings)
        platform = build_platform(settings)
        handler: Handler = args.handler
        try:
            return handler(args, platform)
        finally:
            platform.engine.dispose()
    except ValidationError as exc:
        print(f"chargeline: invalid settings: {exc}", file=sys.stderr)
    except (CliError, service.AccountError, cli_database.NoDatabase) as exc:
        print(f"chargeline: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


def _db_upgrade(_args: argparse.Namespace, platform: Platform) -> int:
    from app.migrate import upgrade

    upgrade(platform.engine)
    print(f"database at {platform.engine.url.render_as_string()} is up to date")
    return 0


def _create_user(args: argparse.Namespace, platform: Platform) -> int:
    from app.migrate import upgrade

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
    from app.migrate import upgrade

    upgrade(platform.engine)
    with Session(platform.engine) as session:
        issued = service.create_client(session, args.name, args.role, actor=CLI_ACTOR)
        session.commit()
    print(f"client_id:     {issued.client_id}")
    print(f"client_secret: {issued.client_secret}   (shown once; store it now)")
    return 0


def _serve(args: argparse.Namespace, platform: Platform) -> int:
    from app.logs import configure_logging
    from app.roles import PortUnavailable
    from app.serve import serve

    configure_logging(platform.settings.log_format)
    try:
        serve(platform, api=args.role in ("serve", "api"), edge=args.role in ("serve", "edge"))
    except PortUnavailable as exc:
        raise CliError(str(exc)) from None
    return 0


def _add_station(args: argparse.Namespace, platform: Platform) -> int:
    from app.clock import utcnow
    from app.edge import station_passwords
    from app.migrate import upgrade
    from charging import registry
    from charging.errors import ChargingError

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


def has_admin(platform: Platform) -> bool:
    with Session(platform.engine) as session:
        users = session.exec(select(User).where(User.disabled == False)).all()  # noqa: E712
        return any("admin" in u.role_list for u in users)


if __name__ == "__main__":
    raise SystemExit(main())
