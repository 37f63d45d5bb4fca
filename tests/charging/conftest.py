"""Fixtures for the charging core: a core on each database backend, fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from app.platform import Platform
from charging.passwords import StationPasswords
from charging.service import ChargingCore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STATION = "CP-0001"
PASSWORD = "sixteen-chars-ok-1234"

# Argon2id with the smallest cost: tests check behaviour, not hashing strength.
FAST_PASSWORDS = StationPasswords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def core(platform: Platform) -> ChargingCore:
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS, heartbeat_interval=120)
    core.add_station(STATION, PASSWORD, now=T0)
    return core
