"""Cards registered in the owners' app are valid online only at their holder's stations: the
app API on one side, the charging core answering stations on the other, one real database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.platform import Platform
from charging import events as ev
from charging.outcomes import AuthorizationDecision, AuthorizationStatus, TransactionDecision
from charging.service import ChargingCore
from charging.tables import IdTokenStation
from common.clock import utcnow
from tests.charging.conftest import FAST_PASSWORDS, PASSWORD
from tests.factories import admin_headers
from tests.owner_helpers import Inbox, login, make_device, pair

Status = AuthorizationStatus
A1, A2, B1 = "SN-SCOPE-A1", "SN-SCOPE-A2", "SN-SCOPE-B1"


@dataclass
class World:
    client: TestClient
    platform: Platform
    core: ChargingCore
    owner_a: dict[str, str]
    owner_b: dict[str, str]

    def authorize(self, station_id: str, card: str) -> Status:
        decision = self.core.handle(
            ev.AuthorizationRequested(station_id, ev.IdToken(card)), now=utcnow()
        )
        assert isinstance(decision, AuthorizationDecision)
        return decision.status

    def start(self, station_id: str, card: str) -> Status:
        event = ev.TransactionStarted(
            station_id, None, 1, 1, ev.IdToken(card), utcnow(), meter_start_wh=0.0
        )
        decision = self.core.handle(event, now=utcnow())
        assert isinstance(decision, TransactionDecision) and decision.authorization is not None
        return decision.authorization.status

    def register(self, headers: dict[str, str], card: str, holder: str | None = None) -> list[str]:
        body = {"id_token": card} | ({"holder_user_id": holder} if holder else {})
        response = self.client.post("/api/v1/app/cards", json=body, headers=headers)
        assert response.status_code == 201, response.text
        stations: list[str] = response.json()["stations"]
        return stations

    def scope(self, card: str) -> set[str]:
        with Session(self.platform.engine) as session:
            rows = session.exec(select(IdTokenStation).where(IdTokenStation.id_token == card))
            return {row.station_id for row in rows}


@pytest.fixture
def world(client: TestClient, platform: Platform) -> World:
    """Owner A pairs stations A1 and A2, owner B pairs B1; all three speak to the core."""
    core = ChargingCore(platform.engine, passwords=FAST_PASSWORDS)
    owner_a = login(platform, client, "a@example.com")
    owner_b = login(platform, client, "b@example.com")
    for headers, serial in ((owner_a, A1), (owner_a, A2), (owner_b, B1)):
        pair(client, headers, make_device(platform, serial))
        core.add_station(serial, PASSWORD, now=utcnow())
    return World(client, platform, core, owner_a, owner_b)


def join_as_guest(world: World, inbox: Inbox, serial: str, headers: dict[str, str]) -> None:
    invited = world.client.post(
        f"/api/v1/app/stations/{serial}/invitations",
        json={"email": "guest@example.com", "role": "guest"},
        headers=world.owner_a,
    )
    assert invited.status_code == 201, invited.text
    token = inbox.token("guest@example.com", "/app/invitations/accept")
    joined = world.client.post(
        "/api/v1/app/invitations/accept", json={"token": token}, headers=headers
    )
    assert joined.status_code == 200, joined.text


def remove_member(world: World, serial: str, user_id: str) -> None:
    removed = world.client.delete(
        f"/api/v1/app/stations/{serial}/members/{user_id}", headers=world.owner_a
    )
    assert removed.status_code == 204, removed.text


def test_an_owners_card_is_refused_at_another_owners_station(world: World) -> None:
    assert world.register(world.owner_a, "ACARD-1") == [A1, A2]
    assert world.authorize(A1, "ACARD-1") is Status.ACCEPTED
    assert world.authorize(A2, "ACARD-1") is Status.ACCEPTED
    assert world.authorize(B1, "ACARD-1") is Status.NOT_AT_THIS_LOCATION
    assert world.start(B1, "ACARD-1") is Status.NOT_AT_THIS_LOCATION
    assert world.start(A1, "ACARD-1") is Status.ACCEPTED


def test_each_owners_cards_stay_on_their_own_stations(world: World) -> None:
    world.register(world.owner_a, "ACARD-1")
    assert world.register(world.owner_b, "BCARD-1") == [B1]
    assert world.authorize(B1, "BCARD-1") is Status.ACCEPTED
    assert world.authorize(A1, "BCARD-1") is Status.NOT_AT_THIS_LOCATION
    assert world.scope("ACARD-1") == {A1, A2} and world.scope("BCARD-1") == {B1}


def test_registering_another_owners_card_is_refused_and_grants_nothing(world: World) -> None:
    world.register(world.owner_a, "ACARD-1")
    taken = world.client.post(
        "/api/v1/app/cards", json={"id_token": "ACARD-1"}, headers=world.owner_b
    )
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("/card-taken")
    assert world.scope("ACARD-1") == {A1, A2}
    assert world.authorize(B1, "ACARD-1") is Status.NOT_AT_THIS_LOCATION


def test_removing_a_guest_makes_their_card_invalid_at_that_station_online(
    world: World, inbox: Inbox
) -> None:
    guest = login(world.platform, world.client, "guest@example.com")
    guest_id = world.client.get("/api/v1/app/me", headers=guest).json()["id"]
    join_as_guest(world, inbox, A1, guest)
    join_as_guest(world, inbox, A2, guest)
    assert world.register(world.owner_a, "GCARD-1", holder=guest_id) == [A1, A2]
    assert world.authorize(A2, "GCARD-1") is Status.ACCEPTED

    remove_member(world, A2, guest_id)
    assert world.authorize(A2, "GCARD-1") is Status.NOT_AT_THIS_LOCATION
    assert world.start(A2, "GCARD-1") is Status.NOT_AT_THIS_LOCATION
    assert world.authorize(A1, "GCARD-1") is Status.ACCEPTED
    assert world.authorize(B1, "GCARD-1") is Status.NOT_AT_THIS_LOCATION

    remove_member(world, A1, guest_id)
    for station in (A1, A2, B1):
        assert world.authorize(station, "GCARD-1") is Status.INVALID
    assert world.scope("GCARD-1") == set()


def test_a_card_its_holder_removes_is_invalid_everywhere(world: World) -> None:
    world.register(world.owner_a, "ACARD-1")
    removed = world.client.delete("/api/v1/app/cards/ACARD-1", headers=world.owner_a)
    assert removed.status_code == 204
    for station in (A1, A2, B1):
        assert world.authorize(station, "ACARD-1") is Status.INVALID


def test_a_card_registered_again_is_valid_again_only_at_its_stations(world: World) -> None:
    world.register(world.owner_a, "ACARD-1")
    world.client.delete("/api/v1/app/cards/ACARD-1", headers=world.owner_a)
    assert world.register(world.owner_a, "ACARD-1") == [A1, A2]
    assert world.authorize(A1, "ACARD-1") is Status.ACCEPTED
    assert world.authorize(B1, "ACARD-1") is Status.NOT_AT_THIS_LOCATION


def test_an_admins_token_stays_valid_at_every_station(world: World) -> None:
    admin = admin_headers(world.platform, world.client)
    created = world.client.post("/api/v1/id-tokens", json={"value": "FLEET-1"}, headers=admin)
    assert created.status_code == 201, created.text
    for station in (A1, A2, B1):
        assert world.authorize(station, "FLEET-1") is Status.ACCEPTED


def test_an_admin_deleting_an_owners_card_leaves_no_stations_behind(world: World) -> None:
    world.register(world.owner_a, "ACARD-1")
    admin = admin_headers(world.platform, world.client)
    assert world.client.delete("/api/v1/id-tokens/ACARD-1", headers=admin).status_code == 204
    assert world.scope("ACARD-1") == set()
    assert world.authorize(A1, "ACARD-1") is Status.INVALID
