# ruff: noqa: T201 - a command line prints
"""``chargeline stations list``, ``devices list``, ``transactions list``: what the database holds.

A table by default (one row per record, newest transactions first), ``--json`` for scripts
(``{"items": [...], "total": N, "limit": L, "offset": O}``); ``--limit`` and ``--offset`` page.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.cli.common import add_common
from app.migrate import upgrade
from app.platform import Platform
from charging.tables import Station, Transaction
from enrollment.identifiers import format_mac
from enrollment.tables import DeviceRow, HardwareFamilyRow

Row = dict[str, Any]


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be 1-1000")
    return value


def _offset(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _list_parser(sub: Any, what: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser("list", help=f"list {what}")
    add_common(parser)
    parser.add_argument("--limit", type=_limit, default=50, help="rows per page (default 50)")
    parser.add_argument("--offset", type=_offset, default=0, help="rows to skip (default 0)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    return parser


def add_station_list(stations_sub: Any) -> None:
    parser = _list_parser(stations_sub, "charging stations")
    parser.add_argument("--online", action="store_true", help="only stations connected now")
    parser.set_defaults(handler=_stations)


def add_device_list(devices_sub: Any) -> None:
    parser = _list_parser(devices_sub, "devices of the factory line")
    parser.add_argument("--lot")
    parser.add_argument("--state", choices=["registered", "enrolled", "released", "paired"])
    parser.set_defaults(handler=_devices)


def add_transaction_commands(subparsers: Any) -> None:
    transactions = subparsers.add_parser("transactions", help="charging transactions")
    sub = transactions.add_subparsers(dest="transactions_command", required=True, metavar="ACTION")
    parser = _list_parser(sub, "transactions, newest first")
    parser.add_argument("--station", help="only this station's")
    parser.add_argument("--state", choices=["active", "ended"])
    parser.set_defaults(handler=_transactions)


def _page(
    args: argparse.Namespace, platform: Platform, query: Any, make: Callable[[Any], Row]
) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = [make(r) for r in session.exec(query.offset(args.offset).limit(args.limit)).all()]
    if args.json:
        body = {"items": rows, "total": total, "limit": args.limit, "offset": args.offset}
        print(json.dumps(body, indent=2, default=_json_value))
    else:
        print(render_table(rows))
        shown = f"{args.offset + 1}-{args.offset + len(rows)}" if rows else "none"
        more = (
            f"; --offset {args.offset + len(rows)} for more"
            if args.offset + len(rows) < total
            else ""
        )
        print(f"({shown} of {total}{more})")
    return 0


def _json_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def render_table(rows: Sequence[Row]) -> str:
    """Columns padded to their widest cell; empty values as ``-``."""
    if not rows:
        return "(nothing)"
    headers = list(rows[0])
    cells = [[_cell(row[h]) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _stations(args: argparse.Namespace, platform: Platform) -> int:
    query = select(Station).order_by(col(Station.id))
    if args.online:
        query = query.where(col(Station.online).is_(True))

    def row(s: Station) -> Row:
        return {
            "id": s.id,
            "profile": s.security_profile,
            "ocpp": s.ocpp_version,
            "vendor": s.vendor,
            "model": s.model,
            "firmware": s.firmware_version,
            "online": s.online,
            "last_seen": s.last_seen_at,
        }

    return _page(args, platform, query, row)


def _devices(args: argparse.Namespace, platform: Platform) -> int:
    query = (
        select(DeviceRow, HardwareFamilyRow.name)
        .join(HardwareFamilyRow, col(HardwareFamilyRow.id) == col(DeviceRow.family_id))
        .order_by(col(DeviceRow.serial))
    )
    if args.lot:
        query = query.where(col(DeviceRow.lot) == args.lot)
    if args.state:
        query = query.where(col(DeviceRow.state) == args.state)

    def row(found: tuple[DeviceRow, str]) -> Row:
        device, family = found
        return {
            "serial": device.serial,
            "family": family,
            "lot": device.lot,
            "state": device.state,
            "mac": format_mac(device.mac),
            "created": device.created_at,
        }

    return _page(args, platform, query, row)


def _transactions(args: argparse.Namespace, platform: Platform) -> int:
    query = select(Transaction).order_by(col(Transaction.id).desc())
    if args.station:
        query = query.where(col(Transaction.station_id) == args.station)
    if args.state:
        query = query.where(col(Transaction.state) == args.state)

    def row(t: Transaction) -> Row:
        return {
            "id": t.id,
            "station": t.station_id,
            "evse": t.evse_id,
            "id_token": t.id_token,
            "state": t.state,
            "started": t.started_at,
            "ended": t.ended_at,
            "energy_wh": None if t.energy_wh is None else round(t.energy_wh, 1),
            "stop_reason": t.stop_reason,
        }

    return _page(args, platform, query, row)
