# ruff: noqa: T201 - a command line prints
"""``chargeline devices``: the factory line from a shell, straight on the database.

Like ``admin create-user``, these commands open the platform's database themselves (same
``--data-dir`` / ``--database-url`` and ``CHARGELINE_*`` settings as the server, including the
secret the code hashes depend on) instead of calling the API: the line PC that runs them is
trusted with the database, and nothing needs to be running. Every change is audited as ``cli``.

    chargeline devices add-family --name wallbox-2 --vendor ACME --model WB2 --ocpp-version 1.6
    chargeline devices add-mac-range 02:00:00:00:00:00-02:00:00:00:FF:FF
    chargeline devices register --serial CL-0001 --family wallbox-2 --lot L1 [--metadata JSON]
    chargeline devices import lot.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app import audit
from app.api.factory import secret_keys
from app.cli.common import CLI_ACTOR, add_common
from app.cli.lists import add_device_list
from app.migrate import upgrade
from app.platform import Platform
from common.clock import utcnow
from enrollment import bulk_import, repository, service
from enrollment.csv_import import Registration, parse_factory_csv
from enrollment.errors import EnrollmentError
from enrollment.identifiers import MacRange, format_mac, parse_serial

__all__ = ["add_device_commands"]


def add_device_commands(subparsers: Any) -> None:
    """Add ``devices`` and its actions to the ``chargeline`` parser's ``subparsers``."""
    devices = subparsers.add_parser("devices", help="the factory line: families, MACs, devices")
    sub = devices.add_subparsers(dest="devices_command", required=True, metavar="ACTION")

    add_device_list(sub)
    family = sub.add_parser("add-family", help="add a hardware family")
    add_common(family)
    family.add_argument("--name", required=True)
    family.add_argument("--vendor", required=True)
    family.add_argument("--model", required=True)
    family.add_argument("--ocpp-version", required=True, choices=["1.6", "2.0.1", "2.1"])
    family.add_argument("--channel", default="stable", help="default firmware channel")
    family.set_defaults(handler=_add_family)

    mac_range = sub.add_parser("add-mac-range", help="add FIRST-LAST to the MAC pool")
    add_common(mac_range)
    mac_range.add_argument("range", metavar="FIRST-LAST")
    mac_range.set_defaults(handler=_add_mac_range)

    register = sub.add_parser("register", help="register one device (idempotent by serial)")
    add_common(register)
    register.add_argument("--serial", required=True)
    register.add_argument("--family", required=True)
    register.add_argument("--lot", required=True)
    register.add_argument("--metadata", help="a JSON object", default="{}")
    register.set_defaults(handler=_register)

    importer = sub.add_parser("import", help="register the devices of a CSV file")
    add_common(importer)
    importer.add_argument("file", type=Path)
    importer.set_defaults(handler=_import)


def _fail(message: str) -> int:
    print(f"chargeline: {message}", file=sys.stderr)
    return 1


def _migrated(platform: Platform) -> None:
    upgrade(platform.engine)


def _add_family(args: argparse.Namespace, platform: Platform) -> int:
    _migrated(platform)
    with Session(platform.engine) as session:
        try:
            family = repository.add_family(
                session,
                name=args.name,
                vendor=args.vendor,
                model=args.model,
                ocpp_version=args.ocpp_version,
                default_channel=args.channel,
            )
        except EnrollmentError as exc:
            return _fail(str(exc))
        audit.record(session, CLI_ACTOR, "family.create", object_type="family", object_id=args.name)
        session.commit()
        print(f"added hardware family {family.name}")
    return 0


def _add_mac_range(args: argparse.Namespace, platform: Platform) -> int:
    _migrated(platform)
    with Session(platform.engine) as session:
        try:
            row = repository.add_mac_range(session, MacRange.parse(args.range))
        except EnrollmentError as exc:
            return _fail(str(exc))
        audit.record(
            session, CLI_ACTOR, "mac_range.add", object_type="mac_range", object_id=str(row.id)
        )
        session.commit()
        print(f"added {row.last - row.first + 1} addresses to the MAC pool")
    return 0


def _register(args: argparse.Namespace, platform: Platform) -> int:
    _migrated(platform)
    try:
        metadata = json.loads(args.metadata)
        if not isinstance(metadata, dict):
            raise ValueError("metadata must be a JSON object")
        registration = Registration(parse_serial(args.serial), args.family, args.lot, metadata)
    except (ValueError, EnrollmentError) as exc:
        return _fail(str(exc))
    with Session(platform.engine, expire_on_commit=False) as session:
        try:
            registered = service.register_device(
                session,
                registration,
                keys=secret_keys(platform.settings),
                actor=CLI_ACTOR,
                now=utcnow(),
                audit=audit.record,
            )
        except EnrollmentError as exc:
            return _fail(str(exc))
        session.commit()
    device = registered.device
    verb = "registered" if registered.created else "already registered"
    print(f"{verb} {device.serial}: MAC {format_mac(device.mac)}, lot {device.lot}")
    if registered.codes is not None:
        print(f"device code:    {registered.codes.device}")
        print(f"packaging code: {registered.codes.packaging}   (shown once)")
    return 0


def _import(args: argparse.Namespace, platform: Platform) -> int:
    _migrated(platform)
    try:
        data = args.file.read_bytes()
        parsed = parse_factory_csv(data)
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    except EnrollmentError as exc:
        return _fail(f"{args.file}: {exc}")

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            end = "\n" if done == total else ""
            print(f"\rrows {done}/{total}", end=end, file=sys.stderr, flush=True)

    with Session(platform.engine, expire_on_commit=False) as session:
        result = bulk_import.import_file(
            session,
            parsed,
            keys=secret_keys(platform.settings),
            actor=CLI_ACTOR,
            now=utcnow(),
            audit=audit.record,
            progress=progress,
        )
    for row in result.rows:
        if row.error is not None:
            print(f"line {row.line}: {row.error.code}: {row.error.message}")
    summary = result.summary
    print(
        f"{summary.rows} rows: {summary.created} created, {summary.existing} existing, "
        f"{summary.duplicate} duplicate, {summary.error} errors"
    )
    return 1 if summary.error else 0
