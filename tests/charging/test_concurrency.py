"""Races settled by the database's unique constraints (run on PostgreSQL in CI)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, select

from app.platform import Platform
from charging import events as ev
from charging.outcomes import Decision, TransactionDecision
from charging.service import ChargingCore
from charging.tables import Connector, Transaction
from tests.charging.conftest import STATION, at

TAG = ev.IdToken("04A1B2C3")


def run_ten_times(core: ChargingCore, event: ev.Event) -> list[Decision]:
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(core.handle, event, now=at(1)) for _ in range(10)]
        return [f.result() for f in futures]


def test_the_same_start_transaction_from_ten_threads_makes_one_transaction(
    core: ChargingCore, platform: Platform
) -> None:
    start = ev.TransactionStarted(STATION, None, 1, 1, TAG, at(1), meter_start_wh=42.0)
    decisions = run_ten_times(core, start)
    ids = {d.transaction_id for d in decisions if isinstance(d, TransactionDecision)}
    with Session(platform.engine) as session:
        rows = session.exec(select(Transaction)).all()
    assert len(rows) == 1 and ids == {rows[0].id}


def test_the_same_201_start_from_ten_threads_makes_one_transaction(
    core: ChargingCore, platform: Platform
) -> None:
    start = ev.TransactionStarted(STATION, "tx-1", 1, 1, TAG, at(1), 0.0, seq_no=0)
    run_ten_times(core, start)
    with Session(platform.engine) as session:
        assert len(session.exec(select(Transaction)).all()) == 1


def test_concurrent_status_reports_keep_one_row_per_connector(
    core: ChargingCore, platform: Platform
) -> None:
    status = ev.ConnectorStatusChanged(STATION, 1, 1, ev.ConnectorStatus.AVAILABLE)
    run_ten_times(core, status)
    with Session(platform.engine) as session:
        assert len(session.exec(select(Connector)).all()) == 1
