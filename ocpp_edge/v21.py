"""OCPP 2.1 adapter: the 2.0.1 translations, which the 2.1 messages keep, plus 2.1's own
station-initiated notifications (DER control, periodic event streams, battery swap, ...) read
as ``StationMessage``. Payloads are validated against the 2.1 schemas by the protocol.
"""

from __future__ import annotations

from ocpp_edge import v201
from ocpp_edge.v201 import action_of, to_reply
from ocpp_edge.v201_commands import to_call, to_result

VERSION = "2.1"
__all__ = [
    "STATION_ACTIONS",
    "VERSION",
    "action_of",
    "to_call",
    "to_event",
    "to_reply",
    "to_result",
]

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
