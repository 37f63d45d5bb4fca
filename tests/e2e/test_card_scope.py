"""An owner's card over real sockets: accepted at the owner's station, refused at another
owner's station when it asks online, in OCPP 1.6 (Invalid) and 2.0.1 (NotAtThisLocation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.test_owner_journey import RawStation, login
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user
from tests.owner_helpers import make_device

OWN, FOREIGN, FOREIGN_201 = "SN-SCOPE-E2E-A", "SN-SCOPE-E2E-B", "SN-SCOPE-E2E-B2"
CARD = "OWNERCARD-A1"


class RawStation201(RawStation):
    """The same raw station, answering the platform's calls in 2.0.1 terms."""

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "GetLocalListVersion":
            return {"versionNumber": self.list_version}
        return {"status": "Accepted"}


@asynccontextmanager
async def station(
    running: RunningPlatform, serial: str, version: str = "ocpp1.6"
) -> AsyncIterator[RawStation]:
    """A booted station whose calls from the platform are answered in the background."""
    async with connect(
        f"{running.ocpp_url}/{serial}",
        subprotocols=[Subprotocol(version)],
        additional_headers=basic(serial),
    ) as ws:
        raw = RawStation(ws) if version == "ocpp1.6" else RawStation201(ws)
        reader = asyncio.create_task(raw.run())
        boot: dict[str, Any]
        if version == "ocpp1.6":
            boot = {"chargePointVendor": "ACME", "chargePointModel": "W1"}
        else:
            boot = {"chargingStation": {"vendorName": "ACME", "model": "W1"}, "reason": "PowerUp"}
        assert (await raw.call("BootNotification", boot))["status"] == "Accepted"
        await eventually(lambda: bool(raw.calls("GetLocalListVersion")))
        try:
            yield raw
        finally:
            reader.cancel()


async def pair(
    http: httpx.AsyncClient, headers: dict[str, str], running: RunningPlatform, serial: str
) -> None:
    labels = make_device(running.platform, serial)
    running.add_station(serial)
    paired = await http.post(
        "/api/v1/app/pairings",
        json={"device_label": labels.device, "packaging_label": labels.packaging},
        headers=headers,
    )
    assert paired.status_code == 201, paired.text


def start(card: str) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": card, "meterStart": 0, "timestamp": "2026-11-21T10:00:00Z"}


async def test_an_owners_card_charges_at_their_station_and_is_refused_at_anothers(
    running: RunningPlatform,
) -> None:
    make_user(running.platform, "a@example.com")
    make_user(running.platform, "b@example.com")
    async with httpx.AsyncClient(base_url=running.api_url, timeout=20) as http:
        owner_a = await login(http, "a@example.com", PASSWORD)
        owner_b = await login(http, "b@example.com", PASSWORD)
        await pair(http, owner_a, running, OWN)
        await pair(http, owner_b, running, FOREIGN)
        await pair(http, owner_b, running, FOREIGN_201)

        async with (
            station(running, OWN) as own,
            station(running, FOREIGN) as foreign,
            station(running, FOREIGN_201, "ocpp2.0.1") as foreign_201,
        ):
            card = await http.post("/api/v1/app/cards", json={"id_token": CARD}, headers=owner_a)
            assert card.status_code == 201, card.text
            assert card.json()["stations"] == [OWN]
            await eventually(lambda: own.local_list.get(CARD) == "Accepted")

            authorized = await own.call("Authorize", {"idTag": CARD})
            assert authorized["idTagInfo"]["status"] == "Accepted"
            assert (await own.call("StartTransaction", start(CARD)))["idTagInfo"] == {
                "status": "Accepted"
            }

            assert CARD not in foreign.local_list and not foreign.calls("SendLocalList")
            refused = await foreign.call("Authorize", {"idTag": CARD})
            assert refused == {"idTagInfo": {"status": "Invalid"}}
            started = await foreign.call("StartTransaction", start(CARD))
            assert started["idTagInfo"] == {"status": "Invalid"}
            assert isinstance(started["transactionId"], int)

            refused_201 = await foreign_201.call(
                "Authorize", {"idToken": {"idToken": CARD, "type": "ISO14443"}}
            )
            assert refused_201 == {"idTokenInfo": {"status": "NotAtThisLocation"}}
