"""PlatformSink: events go to the core, then to the observers that asked for their type."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from app.edge import PlatformSink
from app.live import LIVE_EVENTS
from charging.events import CertificateRequested, Event, HeartbeatReceived, MeterSampled
from charging.outcomes import Acknowledged, ClockDecision, Decision

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeCore:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def handle(self, event: Event) -> Decision:
        self.seen.append(event)
        if isinstance(event, HeartbeatReceived):
            return ClockDecision(NOW)
        return Acknowledged()

    async def connected(self, station_id: str, version: str) -> None:
        pass

    async def disconnected(self, station_id: str) -> None:
        pass


def heard_by(log: list[tuple[str, Event]], name: str) -> list[type[Event]]:
    return [type(event) for who, event in log if who == name]


async def test_an_observer_hears_only_the_event_types_it_asked_for() -> None:
    sink = PlatformSink(FakeCore())
    heard: list[tuple[str, Event]] = []

    async def meters(event: Event, _decision: Decision) -> None:
        heard.append(("meters", event))

    async def everything(event: Event, _decision: Decision) -> None:
        heard.append(("everything", event))

    sink.add_observer(meters, events=[MeterSampled])
    sink.add_observer(everything)
    await sink.handle(HeartbeatReceived("CS-1"))
    await sink.handle(MeterSampled("CS-1", 1, 1, ()))

    assert heard_by(heard, "meters") == [MeterSampled]
    assert heard_by(heard, "everything") == [HeartbeatReceived, MeterSampled]


async def test_the_core_decides_even_when_no_observer_wants_the_event() -> None:
    core = FakeCore()
    sink = PlatformSink(core)

    async def meters(_event: Event, _decision: Decision) -> None:
        raise AssertionError("must not hear a heartbeat")

    sink.add_observer(meters, events=[MeterSampled])

    assert await sink.handle(HeartbeatReceived("CS-1")) == ClockDecision(NOW)
    assert core.seen == [HeartbeatReceived("CS-1")]


async def test_a_failing_typed_observer_is_logged_and_the_station_still_gets_its_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = PlatformSink(FakeCore())

    async def broken(_event: Event, _decision: Decision) -> None:
        raise RuntimeError("boom")

    sink.add_observer(broken, events=[MeterSampled])
    with caplog.at_level(logging.ERROR, logger="app.edge"):
        decision = await sink.handle(MeterSampled("CS-1", 1, 1, ()))

    assert decision == Acknowledged()
    assert "an event observer failed on MeterSampled" in caplog.text


async def test_certificate_requests_without_a_ca_flow_are_refused_not_sent_to_the_core() -> None:
    core = FakeCore()
    sink = PlatformSink(core)

    decision = await sink.handle(CertificateRequested("CS-1", "-----BEGIN CERTIFICATE REQUEST"))

    assert decision.accepted is False  # type: ignore[union-attr]
    assert core.seen == []


def test_the_owners_live_feed_wants_every_station_event_but_the_heartbeat() -> None:
    assert HeartbeatReceived not in LIVE_EVENTS
    assert MeterSampled in LIVE_EVENTS
    assert CertificateRequested in LIVE_EVENTS
