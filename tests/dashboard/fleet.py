"""A small fleet in the database for the overview and station page tests, written as the
platform's own handlers leave it (stations, devices of a family, connectors, sessions)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.ca.tables import IssuedCertificateRow
from app.platform import Platform
from charging.commands import Command, CommandResult
from charging.tables import Connector, MeterSampleRow, SecurityEventRow, Station, Transaction
from enrollment.tables import DeviceRow, HardwareFamilyRow, MacRangeRow
from firmware.rollout_tables import FirmwareReportRow
from ocpp_edge.session import StationOffline

_macs = itertools.count(0x0200_0000_0000)


def add_family(platform: Platform, name: str) -> int:
    with Session(platform.engine) as session:
        family = HardwareFamilyRow(name=name, vendor="ACME", model=name, ocpp_version="1.6")
        session.add(family)
        if session.get(MacRangeRow, 1) is None:
            session.add(MacRangeRow(id=1, first=0x0200_0000_0000, last=0x0200_00FF_FFFF))
        session.commit()
        assert family.id is not None
        return family.id


def add_station(
    platform: Platform,
    station_id: str,
    *,
    family_id: int | None = None,
    online: bool = False,
    model: str | None = "W1",
    firmware: str | None = "1.0.0",
    serial: str | None = None,
    now: datetime,
) -> None:
    with Session(platform.engine) as session:
        session.add(
            Station(
                id=station_id,
                vendor="ACME",
                model=model,
                serial_number=serial,
                firmware_version=firmware,
                ocpp_version="1.6",
                online=online,
                last_seen_at=now if online else None,
                registered_at=now,
            )
        )
        if family_id is not None:
            session.add(
                DeviceRow(
                    serial=station_id,
                    family_id=family_id,
                    lot="LOT-1",
                    mac=next(_macs),
                    mac_range_id=1,
                    state="enrolled",
                    device_code_hash="0" * 64,
                    packaging_code_hash="1" * 64,
                )
            )
        session.commit()


def add_rows(platform: Platform, *rows: Any) -> None:
    with Session(platform.engine) as session:
        for row in rows:
            session.add(row)
        session.commit()


def connector(station_id: str, status: str, now: datetime, evse_id: int = 1) -> Connector:
    return Connector(
        station_id=station_id, evse_id=evse_id, connector_id=1, status=status, updated_at=now
    )


def finished_session(station_id: str, ref: str, started: datetime, energy_wh: float) -> Transaction:
    return Transaction(
        transaction_ref=ref,
        station_id=station_id,
        evse_id=1,
        connector_id=1,
        id_token="CARD-1",
        started_at=started,
        ended_at=started + timedelta(hours=1),
        meter_start_wh=1000.0,
        meter_stop_wh=1000.0 + energy_wh,
        energy_wh=energy_wh,
        state="ended",
    )


def running_session(platform: Platform, station_id: str, ref: str, started: datetime) -> int:
    """An active session whose register went from 500 Wh to 500 + 250 * n Wh (n = 1..4)."""
    with Session(platform.engine) as session:
        tx = Transaction(
            transaction_ref=ref,
            station_id=station_id,
            evse_id=1,
            connector_id=1,
            id_token="CARD-2",
            started_at=started,
            meter_start_wh=500.0,
            state="active",
        )
        session.add(tx)
        session.flush()
        for n in range(1, 5):
            at = started + timedelta(minutes=n)
            session.add(
                MeterSampleRow(
                    transaction_id=tx.id,
                    station_id=station_id,
                    evse_id=1,
                    timestamp=at,
                    measurand="Energy.Active.Import.Register",
                    value=500.0 + 250 * n,
                    unit="Wh",
                )
            )
            session.add(
                MeterSampleRow(
                    transaction_id=tx.id,
                    station_id=station_id,
                    evse_id=1,
                    timestamp=at,
                    measurand="Power.Active.Import",
                    value=7000.0,
                    unit="W",
                )
            )
        session.commit()
        assert tx.id is not None
        return tx.id


def security_event(station_id: str, kind: str, at: datetime, info: str = "") -> SecurityEventRow:
    return SecurityEventRow(station_id=station_id, type=kind, timestamp=at, tech_info=info)


def certificate(
    station_id: str, serial_hex: str, not_after: datetime, status: str = "issued"
) -> IssuedCertificateRow:
    return IssuedCertificateRow(
        serial_hex=serial_hex,
        issuer_role="station",
        profile="station",
        subject_cn=station_id,
        station_id=station_id,
        not_before=not_after - timedelta(days=365),
        not_after=not_after,
        status=status,
        certificate_pem="-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    )


def firmware_report(station_id: str, kind: str, status: str, at: datetime) -> FirmwareReportRow:
    return FirmwareReportRow(station_id=station_id, kind=kind, status=status, at=at)


@dataclass
class FakeBus:
    """A command bus standing in for the gateway: answers with ``result`` (or raises
    :class:`StationOffline` for stations in ``offline``) and keeps what it was sent."""

    result: CommandResult = field(
        default_factory=lambda: CommandResult("Accepted", {"status": "Accepted"})
    )
    offline: set[str] = field(default_factory=set)
    sent: list[tuple[str, Command]] = field(default_factory=list)

    async def send(
        self, station_id: str, command: Command, *, timeout: float | None = None
    ) -> CommandResult:
        if station_id in self.offline:
            raise StationOffline(station_id)
        self.sent.append((station_id, command))
        return self.result
