"""Live station events for the app and the dashboard (``/api/v1/events``), and the owners'
side wired to a running edge (:func:`attach`).

:class:`EventHub` (one per platform: ``Platform.events``) hears every station event through
the sink's observers (``hub.observe``) and hands it to each subscriber's queue on the
subscriber's own event loop. Filtering is the
subscriber's: each WebSocket keeps the set of stations its user may use and refreshes it every
``REFRESH_SECONDS`` or at once when :meth:`EventHub.invalidate` names its user (membership
changes in this process). A slow subscriber loses events rather than slowing the gateway.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from charging.events import Event, HeartbeatReceived
from charging.outcomes import Decision

if TYPE_CHECKING:
    from app.edge import PlatformSink
    from app.platform import Platform
    from ocpp_edge.admission import Admission

QUEUE_SIZE = 1000
REFRESH_SECONDS = 5.0
# What the app and the dashboard show live: every station event but the Heartbeat, which only
# says the station is there (its connection events already say so).
LIVE_EVENTS: tuple[type[Event], ...] = tuple(
    kind for kind in get_args(Event) if kind is not HeartbeatReceived
)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def message(event: Event, decision: Decision | None) -> dict[str, Any]:
    """The JSON message for one event: its type, station and fields, and the core's decision."""
    return {
        "type": type(event).__name__,
        "station_id": event.station_id,
        "event": _plain(event),
        "decision": None
        if decision is None
        else {"type": type(decision).__name__, **_plain(decision)},
    }


def connection_message(what: str, station_id: str) -> dict[str, Any]:
    """``StationConnected`` / ``StationDisconnected``: the station's connection opened or
    closed on this edge (after the core recorded it, so a page re-read shows it)."""
    kind = "StationConnected" if what == "connected" else "StationDisconnected"
    return {"type": kind, "station_id": station_id, "event": {}, "decision": None}


class Subscription:
    """One listener: a queue on its own loop, and whether its station set must be reloaded."""

    def __init__(self, user_id: str | None) -> None:
        self.user_id = user_id
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.stale = True
        self.dropped = 0

    def offer(self, item: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1


class EventHub:
    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    def subscribe(self, user_id: str | None) -> Subscription:
        """A new subscription (``user_id`` None: an admin, who hears every station)."""
        subscription = Subscription(user_id)
        self.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    def publish(self, item: dict[str, Any]) -> None:
        for subscription in list(self.subscriptions):
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, item)
            except RuntimeError:  # its loop is closed
                self.subscriptions.discard(subscription)

    async def observe(self, event: Event, decision: Decision) -> None:
        """The sink observer: publish every station event with the core's decision."""
        self.publish(message(event, decision))

    def invalidate(self, user_id: str) -> None:
        """The user's memberships changed: their subscriptions reload their stations."""
        for subscription in list(self.subscriptions):
            if subscription.user_id == user_id:
                subscription.stale = True


def encode(item: dict[str, Any]) -> str:
    return json.dumps(item, separators=(",", ":"))


def attach(platform: Platform, sink: PlatformSink) -> None:
    """Wire the owners' side to a running edge: live events and sync on (re)connection."""
    hub = platform.events

    async def observe(event: Event, decision: Decision) -> None:
        if hub.subscriptions:  # nobody listens: skip turning the event into a message
            await hub.observe(event, decision)

    sink.add_observer(observe, events=LIVE_EVENTS)

    async def listener(what: str, station_id: str, _admission: Admission | None) -> None:
        if what == "connected":
            platform.station_sync.on_connected(station_id)
        if hub.subscriptions:
            hub.publish(connection_message(what, station_id))

    sink.listeners.append(listener)
