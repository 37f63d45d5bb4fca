"""Connection news on the events socket: admins and support hear stations come and go."""

from __future__ import annotations

import asyncio

from app.live import EventHub, presence


async def test_presence_reaches_the_fleet_listeners_only() -> None:
    hub = EventHub()
    fleet = hub.subscribe(None)
    owner = hub.subscribe("user-1")
    hub.publish(presence("disconnected", "CP-1"), fleet_only=True)
    heard = await asyncio.wait_for(fleet.queue.get(), 5)
    assert heard == {
        "type": "StationDisconnected",
        "station_id": "CP-1",
        "event": {"station_id": "CP-1"},
        "decision": None,
    }
    hub.publish(presence("connected", "CP-1"))
    assert (await asyncio.wait_for(owner.queue.get(), 5))["type"] == "StationConnected"
    assert owner.dropped == 0 and fleet.queue.qsize() == 1
