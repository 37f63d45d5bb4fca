"""An owner's card over real sockets: accepted at the owner's station, refused at another
owner's station when it asks online, in OCPP 1.6 (Invalid) and 2.0.1 (NotAtThisLocation)."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import api_client
from tests.e2e.owners import login, pair
from tests.e2e.stations import station
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user

OWN, FOREIGN, FOREIGN_201 = "SN-SCOPE-E2E-A", "SN-SCOPE-E2E-B", "SN-SCOPE-E2E-B2"
CARD = "OWNERCARD-A1"


def start(card: str) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": card, "meterStart": 0, "timestamp": "2026-11-21T10:00:00Z"}


async def test_an_owners_card_charges_at_their_station_and_is_refused_at_anothers(
    running: RunningPlatform,
) -> None:
    make_user(running.platform, "a@example.com")
    make_user(running.platform, "b@example.com")
    async with api_client(running.api_url) as http:
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
