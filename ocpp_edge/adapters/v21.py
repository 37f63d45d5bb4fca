"""OCPP 2.1 adapter: the 2.0.1 translations, which the 2.1 messages keep, plus 2.1's own
station-initiated notifications (DER control, periodic event streams, battery swap, ...) read
as ``StationMessage``. Payloads are validated against the 2.1 schemas by the protocol.
"""

from __future__ import annotations

from ocpp_edge import frames
from ocpp_edge.adapters import v201
from ocpp_edge.adapters.v201 import V201Adapter

VERSION = "2.1"
__all__ = ["ADAPTER", "GENERIC_ACTIONS", "STATION_ACTIONS", "VERSION", "V21Adapter", "to_event"]

GENERIC_ACTIONS = v201.GENERIC_ACTIONS | frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPeriodicEventStream",
        "NotifyPriorityCharging",
        "NotifySettlement",
        "ReportDERControl",
    }
)

STATION_ACTIONS = (v201.STATION_ACTIONS - v201.GENERIC_ACTIONS) | GENERIC_ACTIONS

to_event = v201.event_translator(GENERIC_ACTIONS)


class V21Adapter(V201Adapter):
    """OCPP 2.1 as a ``VersionAdapter``: 2.0.1's replies, calls and results, 2.1's names,
    schemas and station messages."""

    __slots__ = ()

    version = VERSION
    subprotocol = "ocpp2.1"
    dialect = frames.V21
    station_actions = STATION_ACTIONS
    to_event = staticmethod(to_event)


ADAPTER = V21Adapter()
