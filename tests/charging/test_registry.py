"""Adding stations, their passwords, auto-registration and security profiles."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.platform import Platform
from charging import events as ev
from charging.errors import (
    InvalidStationId,
    InvalidStationPassword,
    ProfileDowngrade,
    StationExists,
    UnknownStation,
)
from charging.outcomes import AuthorizationStatus, BootDecision, RegistrationStatus
from charging.registry import StationCredentials
from charging.service import ChargingCore, add_station
from charging.tables import Station
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD, STATION, T0


def test_the_right_password_returns_the_recorded_profile(core: ChargingCore) -> None:
    assert core.verify_station_password(STATION, PASSWORD) == StationCredentials(STATION, 1, False)


def test_a_wrong_password_or_an_unknown_station_returns_nothing(core: ChargingCore) -> None:
    assert core.verify_station_password(STATION, PASSWORD + "x") is None
    assert core.verify_station_password("CP-NOBODY", PASSWORD) is None


def test_the_password_is_stored_as_an_argon2id_hash(core: ChargingCore, platform: Platform) -> None:
    with Session(platform.engine) as session:
        station = session.get(Station, STATION)
    assert station is not None and station.password_hash is not None
    assert station.password_hash.startswith("$argon2id$") and PASSWORD not in station.password_hash


@pytest.mark.parametrize("password", ["x" * 15, "x" * 41, ""])
def test_passwords_outside_16_to_40_characters_are_refused(
    core: ChargingCore, password: str
) -> None:
    with pytest.raises(InvalidStationPassword, match=f"16-40 characters, not {len(password)}"):
        core.add_station("CP-0002", password, now=T0)


@pytest.mark.parametrize("station_id", ["", "a" * 49, "CP/1", "CP 1", "CP:1", "CP\n1", "CPé"])
def test_station_ids_that_are_not_ocpp_identities_are_refused(
    core: ChargingCore, station_id: str
) -> None:
    with pytest.raises(InvalidStationId, match="1-48 printable characters"):
        core.add_station(station_id, PASSWORD, now=T0)


def test_a_station_id_cannot_be_added_twice(core: ChargingCore) -> None:
    with pytest.raises(StationExists, match="station 'CP-0001' already exists"):
        core.add_station(STATION, PASSWORD, now=T0)


def test_the_plain_function_adds_a_station_for_the_command_line(platform: Platform) -> None:
    station = add_station(
        platform.engine, "CP-CLI", PASSWORD, now=T0, profile=2, passwords=FAST_PASSWORDS
    )
    assert (station.id, station.security_profile, station.pending) == ("CP-CLI", 2, False)


def test_a_security_profile_is_raised_but_never_lowered(core: ChargingCore) -> None:
    assert core.raise_security_profile(STATION, 3).security_profile == 3
    with pytest.raises(ProfileDowngrade, match="security profile 3 may not be lowered to 2"):
        core.raise_security_profile(STATION, 2)
    with pytest.raises(ProfileDowngrade, match="must be 1, 2 or 3, not 4"):
        core.raise_security_profile(STATION, 4)
    with pytest.raises(UnknownStation):
        core.raise_security_profile("CP-NOBODY", 3)
    credentials = core.station_credentials(STATION)
    assert credentials is not None and credentials.security_profile == 3


def test_an_auto_registered_station_is_pending_until_approved(core: ChargingCore) -> None:
    core.register_pending("CP-NEW", PASSWORD, now=T0)
    core.register_pending("CP-NEW", PASSWORD, now=T0)  # idempotent while pending
    assert core.verify_station_password("CP-NEW", PASSWORD) == StationCredentials("CP-NEW", 1, True)
    boot = ev.StationBooted("CP-NEW", "Acme", "AC-22")
    assert core.handle(boot, now=T0) == BootDecision(RegistrationStatus.PENDING, 60, T0)
    authorize = ev.AuthorizationRequested("CP-NEW", ev.IdToken("04A1"))
    assert core.handle(authorize, now=T0).status is AuthorizationStatus.INVALID  # type: ignore[union-attr]
    core.approve_station("CP-NEW", now=T0)
    assert core.handle(boot, now=T0) == BootDecision(RegistrationStatus.ACCEPTED, 120, T0)


def test_a_registered_station_cannot_be_registered_as_pending(core: ChargingCore) -> None:
    with pytest.raises(StationExists):
        core.register_pending(STATION, None, now=T0)
    with pytest.raises(UnknownStation):
        core.approve_station("CP-NOBODY", now=T0)
