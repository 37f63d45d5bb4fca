"""Rows to engine values and back: a target row holds the engine's ``Target`` (queryable
fields as columns, the rest as JSON), a station's facts come from the charging tables, and the
captured reports become the engine's reports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from charging.tables import Station, Transaction
from common.clock import as_utc
from firmware.rollout.messages import BootReport, FirmwareStatusReport, StationFacts
from firmware.rollout.states import FailureKind, TargetState
from firmware.rollout.targets import Target
from firmware.rollout_tables import FirmwareReportRow, RolloutTargetRow

_EXTRA = (
    "ocpp_version",
    "answered",
    "rebooting",
    "tried_plain",
    "tried_signed",
)
_EXTRA_TIMES = ("waiting_since", "stop_requested_at")


def _time(value: str | None) -> datetime | None:
    return None if value is None else as_utc(datetime.fromisoformat(value))


def to_target(row: RolloutTargetRow, new_version: str) -> Target:
    extra: dict[str, Any] = json.loads(row.machine or "{}")
    target = Target(
        station_id=row.station_id,
        wave=row.wave,
        state=TargetState(row.state),
        request_id=row.request_id,
        attempts=row.attempts,
        sent_at=as_utc(row.sent_at),
        last_report_at=as_utc(row.last_report_at),
        failure=None if row.failure is None else FailureKind(row.failure),
        old_version=row.old_version,
        new_version=new_version,
        signed=row.signed,
        probed_at=as_utc(row.probed_at),
        detail=row.detail or None,
    )
    for name in _EXTRA:
        if name in extra:
            setattr(target, name, extra[name])
    for name in _EXTRA_TIMES:
        setattr(target, name, _time(extra.get(name)))
    return target


def store_target(row: RolloutTargetRow, target: Target, now: datetime) -> None:
    row.state = target.state.value
    row.request_id = target.request_id
    row.attempts = target.attempts
    row.sent_at = target.sent_at
    row.last_report_at = target.last_report_at
    row.failure = None if target.failure is None else target.failure.value
    row.old_version = target.old_version
    row.new_version = target.new_version or None
    row.signed = target.signed
    row.probed_at = target.probed_at
    row.detail = target.detail or ""
    extra: dict[str, Any] = {name: getattr(target, name) for name in _EXTRA}
    for name in _EXTRA_TIMES:
        value = getattr(target, name)
        extra[name] = None if value is None else value.isoformat()
    row.machine = json.dumps(extra)
    row.updated_at = now


def station_facts(session: Session, station_id: str) -> StationFacts:
    station = session.get(Station, station_id)
    active = session.exec(
        select(func.count()).where(
            col(Transaction.station_id) == station_id, col(Transaction.ended_at).is_(None)
        )
    ).one()
    if station is None:
        return StationFacts(station_id, False, False, None, None, None)
    return StationFacts(
        station_id=station_id,
        online=station.online,
        in_transaction=int(active) > 0,
        time_zone=station.time_zone,
        firmware_version=station.firmware_version,
        ocpp_version=station.ocpp_version,
    )


def active_transaction_ref(session: Session, station_id: str) -> str | None:
    tx = session.exec(
        select(Transaction).where(
            col(Transaction.station_id) == station_id, col(Transaction.ended_at).is_(None)
        )
    ).first()
    return None if tx is None else tx.transaction_ref


def new_reports(
    session: Session, station_id: str, after: int, *, limit: int = 200
) -> list[FirmwareReportRow]:
    return list(
        session.exec(
            select(FirmwareReportRow)
            .where(
                col(FirmwareReportRow.station_id) == station_id,
                col(FirmwareReportRow.id) > after,
                col(FirmwareReportRow.kind).in_(("status", "boot")),
            )
            .order_by(col(FirmwareReportRow.id))
            .limit(limit)
        )
    )


def latest_report_id(session: Session, station_id: str) -> int:
    found = session.exec(
        select(func.max(FirmwareReportRow.id)).where(
            col(FirmwareReportRow.station_id) == station_id
        )
    ).one()
    return int(found or 0)


def to_report(row: FirmwareReportRow) -> FirmwareStatusReport | BootReport:
    at = as_utc(row.at)
    if row.kind == "boot":
        return BootReport(row.station_id, row.status, row.detail, at)
    return FirmwareStatusReport(row.station_id, row.request_id, row.status or "", at)
