"""The factory line's services against a real database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import audit
from app.audit import AuditEntry
from app.platform import Platform
from enrollment import repository, service
from enrollment.codes import code_matches
from enrollment.csv_import import Registration
from enrollment.errors import InvalidTransition
from enrollment.identifiers import MacRange
from enrollment.lifecycle import DeviceState
from enrollment.sealing import SecretKeys
from enrollment.service_errors import (
    FamilyExists,
    FamilyInUse,
    IdempotencyKeyReused,
    LabelsUnavailable,
    MacPoolEmpty,
    MacRangeOverlap,
    RegistrationConflict,
    UnknownDevice,
    UnknownFamily,
)
from enrollment.tables import DeviceRow, MacRangeRow

KEYS = SecretKeys.from_secrets("service-test-secret-0123456789-abcdefgh")
ACTOR = audit.Actor("test", "local")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAMILY = "wallbox-2"


@pytest.fixture
def engine(platform: Platform) -> Iterator[Engine]:
    with Session(platform.engine) as session:
        repository.add_family(
            session,
            name=FAMILY,
            vendor="Chargeline",
            model="WB2",
            ocpp_version="2.0.1",
            default_channel="stable",
        )
        session.commit()
    yield platform.engine


def add_range(engine: Engine, text: str) -> None:
    with Session(engine) as session:
        repository.add_mac_range(session, MacRange.parse(text))
        session.commit()


def registration(serial: str, lot: str = "LOT-1", **metadata: object) -> Registration:
    return Registration(serial, FAMILY, lot, metadata)


def register(engine: Engine, reg: Registration, key: str | None = None) -> service.Registered:
    with Session(engine, expire_on_commit=False) as session:
        result = service.register_device(
            session, reg, keys=KEYS, actor=ACTOR, now=NOW, audit=audit.record, idempotency_key=key
        )
        session.commit()
        return result


def move(engine: Engine, serial: str, action: str) -> DeviceRow:
    with Session(engine, expire_on_commit=False) as session:
        if action == "enroll":
            device = service.mark_enrolled(
                session, serial, actor=ACTOR, now=NOW, audit=audit.record, certificate_serial="AB"
            )
        elif action == "release":
            device, _ = service.release_device(
                session, serial, actor=ACTOR, now=NOW, audit=audit.record
            )
        else:
            device = service.decommission(
                session, serial, actor=ACTOR, now=NOW, audit=audit.record, reason="scrapped"
            )
        session.commit()
        return device


def test_registration_takes_the_pool_in_order_and_stores_only_hashes(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:10-02:00:00:00:00:11")
    first = register(engine, registration("SN-1", colour="red"))
    second = register(engine, registration("SN-2"))
    assert first.created and first.codes is not None
    assert (first.device.mac, second.device.mac) == (0x020000000010, 0x020000000011)
    device = first.device
    assert code_matches(first.codes.device, device.device_code_hash, pepper=KEYS.pepper)
    assert code_matches(first.codes.packaging, device.packaging_code_hash, pepper=KEYS.pepper)
    assert first.codes.device not in device.model_dump_json()
    assert service.device_metadata(device) == {"colour": "red"}
    assert service.label_codes(device, keys=KEYS) == first.codes


def test_the_same_registration_again_returns_the_device_and_burns_no_address(
    engine: Engine,
) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    first = register(engine, registration("SN-1", colour="red"))
    again = register(engine, registration("SN-1", colour="red"))
    assert not again.created and again.codes is None
    assert again.device.mac == first.device.mac
    assert register(engine, registration("SN-2")).device.mac == first.device.mac + 1


def test_a_conflicting_registration_names_every_field_that_differs(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    register(engine, registration("SN-1", colour="red"))
    with pytest.raises(RegistrationConflict) as refused:
        register(engine, registration("SN-1", lot="LOT-2", colour="blue"))
    assert [(d.field, d.registered, d.requested) for d in refused.value.differences] == [
        ("lot", "LOT-1", "LOT-2"),
        ("metadata", {"colour": "red"}, {"colour": "blue"}),
    ]
    assert str(refused.value) == "serial SN-1 is already registered with a different lot, metadata"


def test_an_idempotency_key_reused_for_another_serial_is_refused(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    register(engine, registration("SN-1"), key="k-1")
    assert not register(engine, registration("SN-1"), key="k-1").created
    with pytest.raises(IdempotencyKeyReused, match="was used to register SN-1"):
        register(engine, registration("SN-2"), key="k-1")


def test_an_unknown_family_is_refused_before_any_address_is_taken(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    with pytest.raises(UnknownFamily, match="unknown hardware family 'nope'"):
        register(engine, Registration("SN-1", "nope", "LOT-1"))
    with Session(engine) as session:
        assert session.exec(select(MacRangeRow)).one().next_index == 0


def test_an_exhausted_pool_is_refused_and_a_new_range_refills_it(engine: Engine) -> None:
    with pytest.raises(MacPoolEmpty, match="all 0 addresses of 0 ranges"):
        register(engine, registration("SN-0"))
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:01")
    register(engine, registration("SN-1"))
    register(engine, registration("SN-2"))
    with pytest.raises(MacPoolEmpty, match="MAC pool exhausted: all 2 addresses of 1 ranges"):
        register(engine, registration("SN-3"))
    add_range(engine, "0A:00:00:00:00:00-0A:00:00:00:00:00")
    assert register(engine, registration("SN-3")).device.mac == 0x0A0000000000
    with Session(engine) as session:
        assert session.get(DeviceRow, "SN-3") is not None


def test_overlapping_ranges_are_refused(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:10-02:00:00:00:00:20")
    for text in ("02:00:00:00:00:00-02:00:00:00:00:10", "02:00:00:00:00:15-02:00:00:00:00:16"):
        with pytest.raises(MacRangeOverlap, match="overlaps the pool's range 02:00:00:00:00:10"):
            add_range(engine, text)
    add_range(engine, "02:00:00:00:00:21-02:00:00:00:00:30")


def test_family_names_are_unique_and_used_families_stay(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    with Session(engine) as session, pytest.raises(FamilyExists):
        repository.add_family(
            session, name=FAMILY, vendor="x", model="y", ocpp_version="1.6", default_channel="s"
        )
    register(engine, registration("SN-1"))
    with Session(engine) as session, pytest.raises(FamilyInUse, match="still has 1 devices"):
        repository.delete_family(session, FAMILY)


def test_the_lifecycle_runs_register_enroll_release_decommission_audited(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    register(engine, registration("SN-1"))
    assert move(engine, "SN-1", "enroll").state == DeviceState.ENROLLED
    released = move(engine, "SN-1", "release")
    assert released.state == DeviceState.RELEASED and released.sealed_codes is None
    with pytest.raises(LabelsUnavailable, match="device SN-1 is released"):
        service.label_codes(released, keys=KEYS)
    assert move(engine, "SN-1", "decommission").state == DeviceState.DECOMMISSIONED
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    actions = [entry.action for entry in entries if entry.object_id == "SN-1"]
    assert actions == ["device.register", "device.enroll", "device.release", "device.decommission"]
    assert '"from_state": "enrolled"' in entries[-2].detail


@pytest.mark.parametrize(
    ("moves", "action", "message"),
    [
        ([], "release", "device is registered; it cannot become released"),
        (["enroll", "release"], "enroll", "device is released; it cannot become enrolled"),
        (["decommission"], "decommission", "device is decommissioned; it cannot become decomm"),
        (["decommission"], "release", "device is decommissioned; it cannot become released"),
    ],
)
def test_an_illegal_move_names_the_current_state(
    engine: Engine, moves: list[str], action: str, message: str
) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    register(engine, registration("SN-1"))
    for earlier in moves:
        move(engine, "SN-1", earlier)
    with pytest.raises(InvalidTransition, match=message):
        move(engine, "SN-1", action)


def test_enrolling_and_releasing_again_are_replays(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    register(engine, registration("SN-1"))
    move(engine, "SN-1", "enroll")
    assert move(engine, "SN-1", "enroll").state == DeviceState.ENROLLED
    move(engine, "SN-1", "release")
    with Session(engine) as session:
        _, outcome = service.release_device(
            session, "SN-1", actor=ACTOR, now=NOW, audit=audit.record
        )
    assert outcome is service.ReleaseOutcome.ALREADY_RELEASED


def test_a_lot_release_refuses_per_device_and_releases_the_rest(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:FF")
    for serial in ("SN-1", "SN-2", "SN-3"):
        register(engine, registration(serial))
    move(engine, "SN-1", "enroll")
    move(engine, "SN-3", "enroll")
    move(engine, "SN-3", "release")
    with Session(engine) as session:
        results = service.release_lot(session, "LOT-1", actor=ACTOR, now=NOW, audit=audit.record)
        session.commit()
    assert [(r.serial, r.outcome.value, r.state.value) for r in results] == [
        ("SN-1", "released", "released"),
        ("SN-2", "refused", "registered"),
        ("SN-3", "already_released", "released"),
    ]
    assert results[1].detail == "device is registered; it cannot become released"
    with Session(engine) as session, pytest.raises(UnknownDevice, match="lot NOPE not found"):
        service.release_lot(session, "NOPE", actor=ACTOR, now=NOW, audit=audit.record)


def test_the_same_serial_registered_20_times_at_once_makes_one_device(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:FF:FF")
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: register(engine, registration("SN-RACE")), range(20)))
    assert sum(result.created for result in results) == 1
    assert {result.device.mac for result in results} == {0x020000000000}
    with Session(engine) as session:
        assert len(session.exec(select(DeviceRow)).all()) == 1
        assert session.exec(select(MacRangeRow)).one().next_index == 1


def test_500_concurrent_registrations_get_500_distinct_addresses(engine: Engine) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:01:FF")
    with ThreadPoolExecutor(24) as pool:
        results = list(
            pool.map(lambda n: register(engine, registration(f"SN-{n:04d}")), range(500))
        )
    macs = {result.device.mac for result in results}
    assert len(macs) == 500 and all(result.created for result in results)
    assert macs == set(range(0x020000000000, 0x020000000000 + 500))
    with Session(engine) as session:
        assert session.exec(select(MacRangeRow)).one().next_index == 500


def test_concurrent_registrations_past_the_end_of_the_pool_never_share_an_address(
    engine: Engine,
) -> None:
    add_range(engine, "02:00:00:00:00:00-02:00:00:00:00:1F")

    def attempt(n: int) -> int | None:
        try:
            return register(engine, registration(f"SN-{n:03d}")).device.mac
        except MacPoolEmpty:
            return None

    with ThreadPoolExecutor(16) as pool:
        macs = list(pool.map(attempt, range(50)))
    taken = [mac for mac in macs if mac is not None]
    assert len(taken) == 32 and len(set(taken)) == 32 and macs.count(None) == 18
