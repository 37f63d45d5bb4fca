"""Whole 1.6- and 2.0.1-shaped sessions through ChargingCore, on each database backend."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session, col, select

from app.platform import Platform
from charging import events as ev
from charging.energy import ENERGY_REGISTER, POWER
from charging.errors import UnknownStation
from charging.outcomes import (
    Acknowledged,
    AuthorizationDecision,
    AuthorizationStatus,
    BootDecision,
    ClockDecision,
    RegistrationStatus,
    TransactionDecision,
)
from charging.service import ChargingCore
from charging.tables import (
    Connector,
    IdTokenRow,
    MeterSampleRow,
    SecurityEventRow,
    Station,
    Transaction,
)
from tests.charging.conftest import STATION, T0, at

TAG = ev.IdToken("04A1B2C3")


def add_token(platform: Platform, value: str = TAG.value, status: str = "Accepted") -> None:
    with Session(platform.engine) as session:
        session.add(IdTokenRow(value=value, status=status, expires_at=at(24 * 60)))
        session.commit()


def transactions(platform: Platform) -> list[Transaction]:
    with Session(platform.engine) as session:
        return list(session.exec(select(Transaction).order_by(col(Transaction.id))))


def sample_count(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return len(session.exec(select(MeterSampleRow)).all())


def register(minutes: float, wh: float) -> ev.MeterSample:
    return ev.MeterSample(at(minutes), ENERGY_REGISTER, wh, "Wh", context="Sample.Periodic")


def test_a_boot_of_a_registered_station_is_accepted_and_records_what_it_says(
    core: ChargingCore, platform: Platform
) -> None:
    boot = ev.StationBooted(STATION, "Acme", "AC-22", "SN-1", "1.2.3")
    assert core.handle(boot, now=T0) == BootDecision(RegistrationStatus.ACCEPTED, 120, T0)
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None
        assert (station.vendor, station.model, station.serial_number) == ("Acme", "AC-22", "SN-1")
        assert station.firmware_version == "1.2.3" and station.online


def test_a_boot_of_an_unknown_station_is_rejected(core: ChargingCore) -> None:
    decision = core.handle(ev.StationBooted("CP-NOBODY", "Acme", "AC-22"), now=T0)
    assert decision == BootDecision(RegistrationStatus.REJECTED, 60, T0)


def test_a_whole_ocpp_16_session_yields_one_transaction_with_its_energy(
    core: ChargingCore, platform: Platform
) -> None:
    add_token(platform)
    status = ev.ConnectorStatusChanged(STATION, 1, 1, ev.ConnectorStatus.OCCUPIED, at(0))
    assert core.handle(status, now=at(0)) == Acknowledged()
    assert core.handle(ev.AuthorizationRequested(STATION, TAG), now=at(0)) == (
        AuthorizationDecision(AuthorizationStatus.ACCEPTED, at(24 * 60))
    )
    start = ev.TransactionStarted(STATION, None, 1, 1, TAG, at(1), meter_start_wh=1_000.0)
    decision = core.handle(start, now=at(1))
    assert isinstance(decision, TransactionDecision) and decision.transaction_id is not None
    assert decision.authorization is not None
    assert decision.authorization.status is AuthorizationStatus.ACCEPTED
    ref = str(decision.transaction_id)
    for minute, wh in ((11, 2_500.0), (21, 4_000.0)):
        meter = ev.MeterSampled(STATION, 1, 1, (register(minute, wh),), ref)
        assert core.handle(meter, now=at(minute)) == Acknowledged()
    stop = ev.TransactionEnded(
        STATION, ref, None, None, TAG, at(30), meter_stop_wh=5_200.0, stop_reason="Local"
    )
    core.handle(stop, now=at(30))
    [tx] = transactions(platform)
    assert tx.id == decision.transaction_id and tx.transaction_ref == ref
    assert (tx.state, tx.energy_wh, tx.stop_reason) == ("ended", 4_200.0, "Local")
    assert (tx.evse_id, tx.connector_id, tx.id_token) == (1, 1, TAG.value)
    assert sample_count(platform) == 2
    with Session(platform.engine) as session:
        [connector] = session.exec(select(Connector)).all()
        assert (connector.evse_id, connector.connector_id, connector.status) == (1, 1, "Occupied")


def test_a_resent_start_transaction_yields_the_same_transaction(
    core: ChargingCore, platform: Platform
) -> None:
    start = ev.TransactionStarted(STATION, None, 1, 1, TAG, at(1), meter_start_wh=1_000.0)
    first = core.handle(start, now=at(1))
    again = core.handle(start, now=at(2))
    assert first == again
    other = core.handle(dataclasses.replace(start, timestamp=at(5)), now=at(5))
    assert isinstance(other, TransactionDecision) and isinstance(first, TransactionDecision)
    assert other.transaction_id != first.transaction_id
    assert len(transactions(platform)) == 2


def test_a_resent_stop_transaction_changes_nothing(core: ChargingCore, platform: Platform) -> None:
    start = ev.TransactionStarted(STATION, None, 1, 1, TAG, at(1), meter_start_wh=0.0)
    decision = core.handle(start, now=at(1))
    assert isinstance(decision, TransactionDecision)
    ref = str(decision.transaction_id)
    stop = ev.TransactionEnded(
        STATION, ref, None, None, None, at(9), meter_stop_wh=900.0, samples=(register(9, 900),)
    )
    core.handle(stop, now=at(9))
    core.handle(dataclasses.replace(stop, meter_stop_wh=5_000.0), now=at(10))
    [tx] = transactions(platform)
    assert tx.energy_wh == 900.0 and sample_count(platform) == 1


def test_meter_values_without_a_transaction_id_join_the_active_transaction_of_the_evse(
    core: ChargingCore, platform: Platform
) -> None:
    core.handle(ev.TransactionStarted(STATION, None, 2, 1, TAG, at(1), 0.0), now=at(1))
    core.handle(ev.MeterSampled(STATION, 2, 1, (register(5, 100),)), now=at(5))
    core.handle(ev.MeterSampled(STATION, 1, 1, (register(5, 7),)), now=at(5))
    with Session(platform.engine) as session:
        rows = session.exec(select(MeterSampleRow).order_by(col(MeterSampleRow.evse_id))).all()
        [tx] = session.exec(select(Transaction)).all()
    assert [(r.evse_id, r.transaction_id) for r in rows] == [(1, None), (2, tx.id)]


def test_a_whole_ocpp_201_session_with_a_retried_event_counts_energy_once(
    core: ChargingCore, platform: Platform
) -> None:
    begin = ev.MeterSample(at(0), ENERGY_REGISTER, 10_000.0, "Wh", context="Transaction.Begin")
    started = ev.TransactionStarted(
        STATION, "tx-abc", 1, 1, TAG, at(0), meter_start_wh=10_000.0, seq_no=0, samples=(begin,)
    )
    assert core.handle(started, now=at(0)) == TransactionDecision(
        None, AuthorizationDecision(AuthorizationStatus.INVALID)
    )
    updated = ev.TransactionUpdated(
        STATION,
        "tx-abc",
        1,
        1,
        None,
        at(10),
        seq_no=1,
        samples=(register(10, 11_000), ev.MeterSample(at(10), POWER, 6_000.0, "W")),
    )
    core.handle(updated, now=at(10))
    core.handle(updated, now=at(11))  # resent: its answer got lost
    core.handle(started, now=at(11))  # resent too
    ended = ev.TransactionEnded(
        STATION,
        "tx-abc",
        1,
        1,
        None,
        at(20),
        meter_stop_wh=None,
        seq_no=2,
        stop_reason="EVDisconnected",
        samples=(register(20, 12_500),),
    )
    core.handle(ended, now=at(20))
    [tx] = transactions(platform)
    assert (tx.transaction_ref, tx.state, tx.last_seq_no) == ("tx-abc", "ended", 2)
    assert tx.energy_wh == 2_500.0
    assert sample_count(platform) == 4


def test_updates_queued_offline_create_the_transaction_they_name(
    core: ChargingCore, platform: Platform
) -> None:
    updated = ev.TransactionUpdated(
        STATION,
        "tx-late",
        3,
        1,
        TAG,
        at(5),
        seq_no=4,
        offline=True,
        samples=(register(5, 500),),
    )
    core.handle(updated, now=at(60))
    ended = ev.TransactionEnded(
        STATION, "tx-late", 3, 1, None, at(9), meter_stop_wh=900.0, seq_no=5, offline=True
    )
    core.handle(ended, now=at(60))
    [tx] = transactions(platform)
    assert (tx.evse_id, tx.id_token, tx.started_at is not None) == (3, TAG.value, True)
    assert tx.energy_wh == 400.0  # from the first register reading to the stop value


def test_an_end_for_an_unknown_transaction_is_kept(core: ChargingCore, platform: Platform) -> None:
    core.handle(ev.TransactionEnded(STATION, "77", None, None, None, at(5), 300.0), now=at(6))
    [tx] = transactions(platform)
    assert (tx.transaction_ref, tx.state, tx.energy_wh) == ("77", "ended", None)


def test_heartbeats_do_not_write_until_presence_is_flushed(
    core: ChargingCore, platform: Platform
) -> None:
    assert core.handle(ev.HeartbeatReceived(STATION), now=at(3)) == ClockDecision(at(3))
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.last_seen_at is None
    assert core.flush_presence() == 1
    assert core.flush_presence() == 0
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.last_seen_at is not None


def test_security_events_are_stored(core: ChargingCore, platform: Platform) -> None:
    event = ev.SecurityEventRaised(STATION, "InvalidFirmwareSignature", at(2), "sig mismatch")
    assert core.handle(event, now=at(2)) == Acknowledged()
    with Session(platform.engine) as session:
        [row] = session.exec(select(SecurityEventRow)).all()
    assert (row.type, row.tech_info) == ("InvalidFirmwareSignature", "sig mismatch")


def test_other_station_messages_are_acknowledged(core: ChargingCore) -> None:
    firmware = ev.FirmwareStatusChanged(STATION, "Downloaded")
    assert core.handle(firmware, now=T0) == Acknowledged()
    assert core.handle(ev.StationMessage(STATION, "NotifyReport", {}), now=T0) == Acknowledged()


def test_events_of_an_unknown_station_are_refused(core: ChargingCore) -> None:
    start = ev.TransactionStarted("CP-GHOST", None, 1, 1, TAG, at(1), meter_start_wh=0.0)
    with pytest.raises(UnknownStation, match="unknown station 'CP-GHOST'"):
        core.handle(start, now=at(1))
    with pytest.raises(UnknownStation):
        core.handle(ev.MeterSampled("CP-GHOST", 1, 1, (register(1, 1),)), now=at(1))


def test_online_and_offline_are_recorded_with_the_protocol(
    core: ChargingCore, platform: Platform
) -> None:
    core.mark_online(STATION, "ocpp2.0.1", now=at(1))
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.online and station.ocpp_version == "ocpp2.0.1"
    core.mark_offline(STATION, now=at(2))
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and not station.online
    with pytest.raises(UnknownStation):
        core.mark_online("CP-GHOST", "ocpp1.6", now=at(1))
