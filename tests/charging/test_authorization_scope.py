"""Id tokens limited to some stations: the pure rule, its 1.6 and 2.0.1 answers, and the core
on each database backend (``id_token_stations``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.platform import Platform
from charging import events as ev
from charging.authorization import TokenRecord, authorize
from charging.outcomes import AuthorizationDecision, AuthorizationStatus, TransactionDecision
from charging.service import ChargingCore
from charging.tables import IdTokenRow, IdTokenStation
from ocpp_edge.adapters import v16, v201
from tests.charging.conftest import PASSWORD, STATION, T0, at

Status = AuthorizationStatus
ELSEWHERE = "CP-0002"
CARD = ev.IdToken("04A1B2C3")
station_ids = st.text(alphabet="ABCP-0123456789", min_size=1, max_size=8)


def scoped(status: Status = Status.ACCEPTED, *, expires_at: datetime | None = None) -> TokenRecord:
    """A token valid at ``STATION`` only."""
    return TokenRecord("04A1", status, expires_at, stations=frozenset({STATION}))


# -- the pure rule ----------------------------------------------------------------------------


def test_a_token_without_stations_is_accepted_at_any_station() -> None:
    record = TokenRecord("04A1", Status.ACCEPTED)
    assert authorize(record, now=T0, station_id=ELSEWHERE) == AuthorizationDecision(Status.ACCEPTED)


def test_a_scoped_token_is_accepted_at_its_station_with_its_expiry() -> None:
    record = scoped(Status.ACCEPTED, expires_at=at(60))
    assert authorize(record, now=T0, station_id=STATION) == AuthorizationDecision(
        Status.ACCEPTED, at(60)
    )


def test_a_scoped_token_is_not_at_this_location_at_another_station() -> None:
    assert authorize(scoped(), now=T0, station_id=ELSEWHERE) == AuthorizationDecision(
        Status.NOT_AT_THIS_LOCATION
    )


def test_a_scoped_token_is_refused_when_the_station_is_not_named() -> None:
    assert authorize(scoped(), now=T0).status is Status.NOT_AT_THIS_LOCATION


def test_a_foreign_station_learns_neither_block_nor_expiry_of_a_scoped_token() -> None:
    blocked = scoped(Status.BLOCKED)
    expired = scoped(Status.ACCEPTED, expires_at=T0)
    assert authorize(blocked, now=T0, station_id=ELSEWHERE).status is Status.NOT_AT_THIS_LOCATION
    assert authorize(expired, now=T0, station_id=ELSEWHERE).status is Status.NOT_AT_THIS_LOCATION


def test_at_its_own_station_a_scoped_token_keeps_its_block_and_expiry() -> None:
    assert authorize(scoped(Status.BLOCKED), now=T0, station_id=STATION).status is Status.BLOCKED
    expired = scoped(Status.ACCEPTED, expires_at=T0)
    assert authorize(expired, now=T0, station_id=STATION).status is Status.EXPIRED


def test_an_unknown_token_is_invalid_at_every_station() -> None:
    assert authorize(None, now=T0, station_id=STATION).status is Status.INVALID


@given(stations=st.frozensets(station_ids, max_size=4), here=station_ids)
def test_an_accepted_scoped_token_is_accepted_exactly_at_its_stations(
    stations: frozenset[str], here: str
) -> None:
    record = TokenRecord("04A1", Status.ACCEPTED, stations=stations)
    accepted = authorize(record, now=T0, station_id=here).status is Status.ACCEPTED
    assert accepted == (here in stations)


# -- the answers per OCPP version -------------------------------------------------------------


def test_ocpp16_answers_invalid_for_a_token_not_valid_here() -> None:
    """1.6 AuthorizationStatus has no NotAtThisLocation: the adapter answers Invalid."""
    event = ev.AuthorizationRequested(ELSEWHERE, CARD)
    decision = AuthorizationDecision(Status.NOT_AT_THIS_LOCATION)
    assert v16.to_reply(event, decision) == {"idTagInfo": {"status": "Invalid"}}


def test_ocpp201_answers_not_at_this_location() -> None:
    event = ev.AuthorizationRequested(ELSEWHERE, CARD)
    decision = AuthorizationDecision(Status.NOT_AT_THIS_LOCATION)
    assert v201.to_reply(event, decision) == {"idTokenInfo": {"status": "NotAtThisLocation"}}


# -- the core on the database -----------------------------------------------------------------


def add_card(platform: Platform, *stations: str, value: str = CARD.value) -> None:
    with Session(platform.engine) as session:
        session.add(IdTokenRow(value=value, status="Accepted", expires_at=at(24 * 60)))
        session.flush()
        session.add_all(IdTokenStation(id_token=value, station_id=s) for s in stations)
        session.commit()


@pytest.fixture
def two_stations(core: ChargingCore) -> ChargingCore:
    core.add_station(ELSEWHERE, PASSWORD, now=T0)
    return core


def authorization(core: ChargingCore, station_id: str, token: ev.IdToken = CARD) -> Status:
    decision = core.handle(ev.AuthorizationRequested(station_id, token), now=T0)
    assert isinstance(decision, AuthorizationDecision)
    return decision.status


def start(core: ChargingCore, station_id: str) -> TransactionDecision:
    event = ev.TransactionStarted(station_id, None, 1, 1, CARD, at(1), meter_start_wh=0.0)
    decision = core.handle(event, now=at(1))
    assert isinstance(decision, TransactionDecision)
    return decision


def test_the_core_accepts_a_scoped_card_only_at_its_stations(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform, STATION)
    assert authorization(two_stations, STATION) is Status.ACCEPTED
    assert authorization(two_stations, ELSEWHERE) is Status.NOT_AT_THIS_LOCATION


def test_the_core_accepts_a_fleet_wide_token_at_every_station(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform)
    assert authorization(two_stations, STATION) is Status.ACCEPTED
    assert authorization(two_stations, ELSEWHERE) is Status.ACCEPTED


def test_a_card_on_several_stations_is_accepted_at_each(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform, STATION, ELSEWHERE, "CP-9999")
    assert authorization(two_stations, STATION) is Status.ACCEPTED
    assert authorization(two_stations, ELSEWHERE) is Status.ACCEPTED


def test_a_start_transaction_elsewhere_is_recorded_but_its_card_refused(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform, STATION)
    refused = start(two_stations, ELSEWHERE)
    assert refused.transaction_id is not None
    assert refused.authorization == AuthorizationDecision(Status.NOT_AT_THIS_LOCATION)
    accepted = start(two_stations, STATION)
    assert accepted.authorization is not None
    assert accepted.authorization.status is Status.ACCEPTED


def test_a_transaction_event_elsewhere_answers_not_at_this_location(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform, STATION)
    started = ev.TransactionStarted(ELSEWHERE, "tx-1", 1, 1, CARD, at(1), seq_no=0)
    updated = ev.TransactionUpdated(ELSEWHERE, "tx-1", 1, 1, CARD, at(2), seq_no=1)
    ended = ev.TransactionEnded(ELSEWHERE, "tx-1", 1, 1, CARD, at(3), seq_no=2)
    for event in (started, updated, ended):
        decision = two_stations.handle(event, now=at(3))
        assert isinstance(decision, TransactionDecision)
        assert decision.authorization == AuthorizationDecision(Status.NOT_AT_THIS_LOCATION)


def test_withdrawing_the_last_other_station_leaves_the_card_valid_only_here(
    two_stations: ChargingCore, platform: Platform
) -> None:
    add_card(platform, STATION, ELSEWHERE)
    with Session(platform.engine) as session:
        session.exec(delete(IdTokenStation).where(col(IdTokenStation.station_id) == ELSEWHERE))
        session.commit()
    assert authorization(two_stations, STATION) is Status.ACCEPTED
    assert authorization(two_stations, ELSEWHERE) is Status.NOT_AT_THIS_LOCATION


def test_removing_a_token_removes_its_stations(platform: Platform) -> None:
    add_card(platform, STATION, ELSEWHERE)
    with Session(platform.engine) as session:
        row = session.exec(select(IdTokenRow).where(IdTokenRow.value == CARD.value)).one()
        session.delete(row)
        session.commit()
    with Session(platform.engine) as session:
        assert session.exec(select(IdTokenStation)).all() == []


def test_a_station_row_for_an_unknown_token_is_refused_by_the_database(
    platform: Platform,
) -> None:
    with Session(platform.engine) as session:
        session.add(IdTokenStation(id_token="NO-SUCH-CARD", station_id=STATION))
        with pytest.raises(IntegrityError, match="(?i)foreign key"):
            session.commit()
