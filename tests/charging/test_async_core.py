"""The async front: group commit of meter events, durable before the answer."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, func, select

from app.platform import Platform
from charging import events as ev
from charging.async_core import AsyncChargingCore
from charging.energy import ENERGY_REGISTER
from charging.errors import UnknownStation
from charging.outcomes import Acknowledged, BootDecision, ClockDecision, TransactionDecision
from charging.service import ChargingCore
from charging.tables import MeterSampleRow, Station, Transaction
from common.clock import as_utc
from tests.charging.conftest import STATION, T0, at


def meter(minute: int, station: str = STATION) -> ev.MeterSampled:
    sample = ev.MeterSample(at(minute), ENERGY_REGISTER, float(minute * 100), "Wh")
    return ev.MeterSampled(station, 1, 1, (sample,))


def count_samples(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(MeterSampleRow)).one()


async def test_concurrent_meter_values_are_written_in_few_batches(
    core: ChargingCore, platform: Platform
) -> None:
    async with AsyncChargingCore(core, max_batch=50) as front:
        decisions = await asyncio.gather(*(front.handle(meter(i), now=at(i)) for i in range(300)))
        assert decisions == [Acknowledged()] * 300
        assert count_samples(platform) == 300
        assert 6 <= front.batches < 300


async def test_a_meter_value_is_committed_before_its_answer_returns(
    core: ChargingCore, platform: Platform
) -> None:
    async with AsyncChargingCore(core) as front:
        for i in range(3):
            await front.handle(meter(i), now=at(i))
            assert count_samples(platform) == i + 1


async def test_a_bad_event_fails_alone_and_the_rest_of_its_batch_is_written(
    core: ChargingCore, platform: Platform
) -> None:
    async with AsyncChargingCore(core) as front:
        events = [meter(1), meter(2, station="CP-GHOST"), meter(3)]
        results = await asyncio.gather(
            *(front.handle(e, now=T0) for e in events), return_exceptions=True
        )
    assert results[0] == results[2] == Acknowledged()
    assert isinstance(results[1], UnknownStation)
    assert count_samples(platform) == 2


async def test_updates_of_a_201_transaction_go_through_the_writer_without_duplicates(
    core: ChargingCore, platform: Platform
) -> None:
    async with AsyncChargingCore(core) as front:
        started = ev.TransactionStarted(STATION, "tx-9", 1, 1, None, at(0), 0.0, seq_no=0)
        assert await front.handle(started, now=at(0)) == TransactionDecision()
        sample = (ev.MeterSample(at(1), ENERGY_REGISTER, 100.0, "Wh"),)
        update = ev.TransactionUpdated(STATION, "tx-9", 1, 1, None, at(1), 1, samples=sample)
        await asyncio.gather(*(front.handle(update, now=at(1)) for _ in range(5)))
    with Session(platform.engine) as session:
        [tx] = session.exec(select(Transaction)).all()
    assert tx.last_seq_no == 1 and count_samples(platform) == 1


async def test_other_events_are_answered_by_the_core(core: ChargingCore) -> None:
    async with AsyncChargingCore(core) as front:
        boot = await front.handle(ev.StationBooted(STATION, "Acme", "AC"), now=T0)
        assert isinstance(boot, BootDecision)
        beat = await front.handle(ev.HeartbeatReceived(STATION), now=at(5))
        assert beat == ClockDecision(at(5))


async def test_closing_flushes_the_last_seen_times(core: ChargingCore, platform: Platform) -> None:
    async with AsyncChargingCore(core) as front:
        await front.handle(ev.HeartbeatReceived(STATION), now=at(5))
        await front.mark_online(STATION, "ocpp1.6", now=at(1))
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
        assert station is not None and station.online and station.last_seen_at is not None
        assert as_utc(station.last_seen_at) == at(5)


async def test_meter_events_are_refused_before_the_writer_starts(core: ChargingCore) -> None:
    front = AsyncChargingCore(core)
    with pytest.raises(RuntimeError, match="not started"):
        await front.handle(meter(1), now=T0)


async def test_meter_values_naming_a_transaction_not_yet_known_are_tied_once_it_exists(
    core: ChargingCore, platform: Platform
) -> None:
    sample = (ev.MeterSample(at(1), ENERGY_REGISTER, 1.0, "Wh"),)
    async with AsyncChargingCore(core) as front:
        await front.handle(ev.MeterSampled(STATION, 1, 1, sample, "1"), now=at(1))
        start = ev.TransactionStarted(STATION, None, 1, 1, None, at(2), 0.0)
        decision = await front.handle(start, now=at(2))
        assert isinstance(decision, TransactionDecision) and decision.transaction_id == 1
        for _ in range(2):  # the second batch answers from the lookup cache
            await front.handle(ev.MeterSampled(STATION, 1, 1, sample, "1"), now=at(3))
    with Session(platform.engine) as session:
        tied = session.exec(select(MeterSampleRow.transaction_id)).all()
    assert sorted(tied, key=str) == sorted([None, 1, 1], key=str)


def test_meter_values_from_two_event_loops_are_each_answered_on_their_own_loop(
    core: ChargingCore, platform: Platform
) -> None:
    front = AsyncChargingCore(core)

    async def send(minutes: range) -> list[object]:
        return list(await asyncio.gather(*(front.handle(meter(i), now=at(i)) for i in minutes)))

    async def main() -> tuple[list[object], list[object]]:
        await front.start()
        try:
            other = asyncio.to_thread(asyncio.run, send(range(50, 80)))
            return await asyncio.gather(send(range(30)), other)
        finally:
            await front.aclose()

    here, there = asyncio.run(main())
    assert here == [Acknowledged()] * 30 and there == [Acknowledged()] * 30
    assert count_samples(platform) == 60
