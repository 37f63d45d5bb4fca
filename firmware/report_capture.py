"""The edge's part of rollouts: write what stations say about firmware and health as rows.

The worker may run in another process (``chargeline worker``), so it cannot hear the edge's
events; it reads ``firmware_reports`` instead. The edge does one insert per relevant event and
nothing else: firmware statuses, boots (the version confirms an update), Faulted connectors,
and session starts and ends (the health gate's failed sessions).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from charging.events import (
    ConnectorStatus,
    ConnectorStatusChanged,
    Event,
    FirmwareStatusChanged,
    StationBooted,
    TransactionEnded,
    TransactionStarted,
)
from common.clock import utcnow
from firmware.rollout_tables import FirmwareReportRow

# Stop reasons of a session that ended abnormally (1.6 Reason, 2.0.1 ReasonEnumType).
FAILED_STOP_REASONS = frozenset(
    {
        "EmergencyStop",
        "PowerLoss",
        "Reboot",
        "HardReset",
        "SoftReset",
        "Other",
        "EnergyLimitReached_",
        "GroundFault",
        "OvercurrentFault",
        "OverVoltage",
        "UnderVoltage",
        "PowerQuality",
        "ReqEnergyTransferRejected",
        "Timeout",
        "ImmediateReset",
        "LocalOutOfCredit",
        "EVDisconnected_",
    }
)

CAPTURED_EVENTS: tuple[type[Event], ...] = (
    FirmwareStatusChanged,
    StationBooted,
    ConnectorStatusChanged,
    TransactionStarted,
    TransactionEnded,
)


def report_for(event: Event, *, now: datetime) -> FirmwareReportRow | None:
    """The row to keep for ``event``, or None when rollouts do not care about it."""
    if isinstance(event, FirmwareStatusChanged):
        return FirmwareReportRow(
            station_id=event.station_id,
            kind="status",
            status=event.status[:50],
            request_id=event.request_id,
            signed=event.signed,
            at=now,
        )
    if isinstance(event, StationBooted):
        return FirmwareReportRow(
            station_id=event.station_id,
            kind="boot",
            status=None if event.firmware_version is None else event.firmware_version[:50],
            detail=None if event.reason is None else str(event.reason),
            at=now,
        )
    if isinstance(event, ConnectorStatusChanged):
        if event.status is not ConnectorStatus.FAULTED:
            return None
        return FirmwareReportRow(
            station_id=event.station_id, kind="fault", detail=event.error_code, at=now
        )
    if isinstance(event, TransactionStarted):
        return FirmwareReportRow(station_id=event.station_id, kind="session_started", at=now)
    if isinstance(event, TransactionEnded):
        reason = event.stop_reason
        return FirmwareReportRow(
            station_id=event.station_id,
            kind="session_ended",
            detail=None if reason is None else reason[:200],
            failed=reason in FAILED_STOP_REASONS,
            at=now,
        )
    return None


class ReportRecorder:
    """An edge observer (``sink.add_observer(recorder.on_event, events=CAPTURED_EVENTS)``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def on_event(self, event: Event, _decision: object) -> None:
        row = report_for(event, now=utcnow())
        if row is not None:
            await asyncio.to_thread(self._insert, row)

    def _insert(self, row: FirmwareReportRow) -> None:
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
