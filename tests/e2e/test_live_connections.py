"""Live events say when a station's connection opens and closes, after the core recorded it."""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from charging.tables import Station
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import OPEN_TIMEOUT


async def test_subscribers_hear_a_station_connect_and_disconnect(running: RunningPlatform) -> None:
    running.add_station("CP-LIVE")
    hub = running.platform.events
    subscription = hub.subscribe(None)
    try:
        async with connect(
            f"{running.ocpp_url}/CP-LIVE",
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers=basic("CP-LIVE"),
            open_timeout=OPEN_TIMEOUT,
        ):
            opened = await asyncio.wait_for(subscription.queue.get(), 10)
        closed = await asyncio.wait_for(subscription.queue.get(), 10)
    finally:
        hub.unsubscribe(subscription)
    assert opened == {
        "type": "StationConnected",
        "station_id": "CP-LIVE",
        "event": {},
        "decision": None,
    }
    assert closed["type"] == "StationDisconnected" and closed["station_id"] == "CP-LIVE"
    with Session(running.platform.engine) as session:
        station = session.get(Station, "CP-LIVE")
        assert station is not None and not station.online  # recorded before it was announced
