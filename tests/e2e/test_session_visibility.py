"""Who sees which charging sessions when a station changes hands, over real sockets.

A station charges for its first owner, who gives it up; a second owner pairs it and charges.
Each owner sees the sessions of their own time, also after leaving, and never the other's.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from websockets.asyncio.client import connect

from common.clock import utcnow
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import api_client
from tests.e2e.owners import login
from tests.e2e.stations import RawStation
from tests.factories import PASSWORD, make_user
from tests.owner_helpers import make_device

SERIAL = "SN-HANDOVER-1"


def stamp(*, minutes: int = 0) -> str:
    return (utcnow() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def charge(station: RawStation, id_tag: str, meter_start: int) -> int:
    started = await station.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": id_tag, "meterStart": meter_start, "timestamp": stamp()},
    )
    assert started["idTagInfo"]["status"] == "Accepted", started
    transaction_id: int = started["transactionId"]
    await station.call(
        "StopTransaction",
        {
            "transactionId": transaction_id,
            "meterStop": meter_start + 1000,
            "timestamp": stamp(minutes=1),
            "reason": "EVDisconnected",
        },
    )
    return transaction_id


async def session_ids(http: httpx.AsyncClient, headers: dict[str, str]) -> list[int]:
    answer = await http.get("/api/v1/app/sessions", headers=headers)
    assert answer.status_code == 200, answer.text
    return sorted(item["id"] for item in answer.json()["items"])


async def test_each_owner_sees_the_sessions_of_their_own_time_with_the_station(
    running: RunningPlatform,
) -> None:
    labels = make_device(running.platform, SERIAL)
    running.add_station(SERIAL)
    running.add_id_token("CARD-1")
    make_user(running.platform, "first@example.com")
    make_user(running.platform, "second@example.com")
    async with (
        api_client(running.api_url) as http,
        connect(
            f"{running.ocpp_url}/{SERIAL}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic(SERIAL),
        ) as ws,
    ):
        station = RawStation(ws)
        reader = asyncio.create_task(station.run())
        boot = await station.call(
            "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "W1"}
        )
        assert boot["status"] == "Accepted"
        first = await login(http, "first@example.com", PASSWORD)
        second = await login(http, "second@example.com", PASSWORD)
        pairing = {"device_label": labels.device, "packaging_label": labels.packaging}

        before = await charge(station, "CARD-1", 0)  # nobody owns the station yet
        paired = await http.post("/api/v1/app/pairings", json=pairing, headers=first)
        assert paired.status_code == 201, paired.text
        firsts = await charge(station, "CARD-1", 1000)
        assert await session_ids(http, first) == [firsts]

        # the first owner gives the station up; the second pairs it
        released = await http.delete(f"/api/v1/app/stations/{SERIAL}/ownership", headers=first)
        assert released.status_code == 204, released.text
        paired = await http.post("/api/v1/app/pairings", json=pairing, headers=second)
        assert paired.status_code == 201, paired.text
        assert await session_ids(http, second) == []
        seconds = await charge(station, "CARD-1", 2000)

        assert await session_ids(http, first) == [firsts]
        assert await session_ids(http, second) == [seconds]
        assert before not in {firsts, seconds}
        kept = await http.get(f"/api/v1/app/sessions/{firsts}", headers=first)
        assert kept.status_code == 200 and kept.json()["energy_wh"] == 1000
        for headers, other in ((first, seconds), (second, firsts), (second, before)):
            hidden = await http.get(f"/api/v1/app/sessions/{other}", headers=headers)
            assert hidden.status_code == 404, hidden.text
            assert hidden.json()["type"].endswith("/not-found")
        # the former owner may look back but no longer act on the station
        stop = await http.post(f"/api/v1/app/sessions/{firsts}/stop", headers=first)
        assert stop.status_code == 404, stop.text
        station_page = await http.get(f"/api/v1/app/stations/{SERIAL}", headers=first)
        assert station_page.status_code == 404
        reader.cancel()
