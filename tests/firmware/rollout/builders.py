"""Builders for the rollout engine's unit tests: a fixed clock, policies, targets, facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from firmware.rollout.model import (
    BootReport,
    CommandAnswer,
    FirmwareStatusReport,
    RolloutPolicy,
    StationFacts,
    TargetSelection,
    TargetState,
    WavePlan,
)
from firmware.rollout.targets import Target, due, start

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
OLD, NEW = "1.4.0", "1.5.0"
STATION = "CP-0001"


def policy(**changes: Any) -> RolloutPolicy:
    base = RolloutPolicy(TargetSelection("fam-a"), WavePlan("fixed", sizes=(10,)))
    return replace(base, **changes)


def facts(**changes: Any) -> StationFacts:
    base = StationFacts(STATION, True, False, None, OLD, "2.0.1")
    return replace(base, **changes)


def waiting_target(**changes: Any) -> Target:
    target = Target(STATION, 0, new_version=NEW)
    start(target, T0)
    for name, value in changes.items():
        setattr(target, name, value)
    return target


def sent_target(*, request_id: int = 7, ocpp: str = "2.0.1", **changes: Any) -> Target:
    """A target whose SendUpdate just went out at T0 with ``request_id``."""
    target = waiting_target(**changes)
    command = due(target, facts(ocpp_version=ocpp), policy(), T0, next_request_id=request_id)
    assert command is not None and target.state is TargetState.SENT
    return target


def report(status: str, request_id: int | None = 7, at: datetime = T0) -> FirmwareStatusReport:
    return FirmwareStatusReport(STATION, request_id, status, at)


def answer(status: str, request_id: int = 7, at: datetime = T0) -> CommandAnswer:
    return CommandAnswer(STATION, request_id, status, at)


def boot(version: str | None, at: datetime = T0) -> BootReport:
    return BootReport(STATION, version, "FirmwareUpdate", at)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
