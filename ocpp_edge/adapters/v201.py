"""OCPP 2.0.1 adapter: a pure translator (OCPP 2.0.1 Part 2 use cases cited per message).

``to_event`` turns a validated station request into an event, ``to_reply`` a decision into the
CALLRESULT payload, ``to_call`` a command into (action, payload), ``to_result`` the station's
answer into a ``CommandResult`` (the last two in ``v201_commands``). ``ADAPTER`` offers them
as a ``VersionAdapter``; OCPP 2.1 reuses these translations (see ``ocpp_edge.adapters.v21``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charging import events as ev
from charging.outcomes import (
    Acknowledged,
    AuthorizationDecision,
    BootDecision,
    ClockDecision,
    Decision,
    TransactionDecision,
)
from ocpp_edge import frames, schemas
from ocpp_edge.adapters import common
from ocpp_edge.adapters.common import (
    energy_register_wh,
    format_datetime,
    id_token_to_v2,
    id_token_v2,
    parse_datetime,
    samples_v2,
)
from ocpp_edge.adapters.v201_commands import VERSION, to_call, to_result
from ocpp_edge.schemas import Schemas

__all__ = [
    "ADAPTER",
    "STATION_ACTIONS",
    "VERSION",
    "V201Adapter",
    "action_of",
    "to_call",
    "to_event",
    "to_reply",
    "to_result",
]

# Station-initiated messages with an empty answer that the core takes as a StationMessage.
GENERIC_ACTIONS = frozenset(
    {
        "ClearedChargingLimit",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
    }
)


def _boot(station_id: str, p: dict[str, Any]) -> ev.Event:
    """B01: chargingStation {model, vendorName, serialNumber, firmwareVersion, modem}."""
    station = p["chargingStation"]
    modem = station.get("modem") or {}
    try:
        reason: ev.BootReason | None = ev.BootReason(p["reason"])
    except ValueError:
        reason = ev.BootReason.UNKNOWN
    return ev.StationBooted(
        station_id,
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        reason=reason,
        modem_iccid=modem.get("iccid"),
        modem_imsi=modem.get("imsi"),
    )


def _status(station_id: str, p: dict[str, Any]) -> ev.Event:
    """G01: the 2.0.1 ConnectorStatusEnumType is the normalised one."""
    return ev.ConnectorStatusChanged(
        station_id,
        p["evseId"],
        p["connectorId"],
        ev.ConnectorStatus(p["connectorStatus"]),
        timestamp=parse_datetime(p["timestamp"]),
    )


def _transaction(station_id: str, p: dict[str, Any]) -> ev.Event:
    """E01-E15 TransactionEvent: Started, Updated, Ended become one event each."""
    info = p["transactionInfo"]
    evse = p.get("evse") or {}
    token = p.get("idToken")
    samples = samples_v2(p.get("meterValue", ()))
    common: dict[str, Any] = {
        "station_id": station_id,
        "transaction_ref": info["transactionId"],
        "evse_id": evse.get("id"),
        "connector_id": evse.get("connectorId"),
        "id_token": None if token is None else id_token_v2(token),
        "timestamp": parse_datetime(p["timestamp"]),
        "seq_no": p["seqNo"],
        "offline": p.get("offline", False),
        "trigger_reason": p["triggerReason"],
        "samples": samples,
        "remote_start_id": info.get("remoteStartId"),
    }
    event_type = p["eventType"]
    if event_type == "Started":
        return ev.TransactionStarted(
            meter_start_wh=energy_register_wh(samples),
            charging_state=info.get("chargingState"),
            reservation_id=p.get("reservationId"),
            **common,
        )
    if event_type == "Updated":
        return ev.TransactionUpdated(charging_state=info.get("chargingState"), **common)
    return ev.TransactionEnded(
        meter_stop_wh=energy_register_wh(samples),
        stop_reason=info.get("stoppedReason", "Local"),
        **common,
    )


def _certificate(station_id: str, p: dict[str, Any]) -> ev.Event:
    """A02/A03 SignCertificate; certificateType defaults to ChargingStationCertificate."""
    kind = p.get("certificateType", ev.CertificateSigningUse.CHARGING_STATION.value)
    return ev.CertificateRequested(station_id, p["csr"], ev.CertificateSigningUse(kind))


_TO_EVENT: dict[str, Callable[[str, dict[str, Any]], ev.Event]] = {
    "BootNotification": _boot,
    "Heartbeat": common.heartbeat_event,
    "StatusNotification": _status,
    "Authorize": lambda s, p: ev.AuthorizationRequested(s, id_token_v2(p["idToken"])),
    "TransactionEvent": _transaction,
    "MeterValues": lambda s, p: ev.MeterSampled(s, p["evseId"], None, samples_v2(p["meterValue"])),
    "DataTransfer": common.data_transfer_event,
    "FirmwareStatusNotification": lambda s, p: ev.FirmwareStatusChanged(
        s, p["status"], p.get("requestId"), signed=True
    ),
    "LogStatusNotification": common.log_status_event,
    "SecurityEventNotification": common.security_event,
    "SignCertificate": _certificate,
}

STATION_ACTIONS = frozenset(_TO_EVENT) | GENERIC_ACTIONS


def event_translator(
    generic: frozenset[str],
) -> Callable[[str, str, dict[str, Any]], ev.Event]:
    """A ``to_event`` that reads ``generic`` actions as StationMessage (2.1 has more of them)."""

    def to_event(station_id: str, action: str, payload: dict[str, Any]) -> ev.Event:
        translate = _TO_EVENT.get(action)
        if translate is not None:
            return translate(station_id, payload)
        if action in generic:
            return ev.StationMessage(station_id, action, payload)
        raise KeyError(action)

    return to_event


to_event = event_translator(GENERIC_ACTIONS)
to_event.__doc__ = """Translate a station-initiated request (one of ``STATION_ACTIONS``).

Raises:
    KeyError: ``action`` is not station-initiated in 2.0.1.
    ValueError: a value the schema admits but the platform cannot read.
"""


def _id_token_info(decision: AuthorizationDecision) -> dict[str, Any]:
    info: dict[str, Any] = {"status": decision.status.value}
    if decision.expiry is not None:
        info["cacheExpiryDateTime"] = format_datetime(decision.expiry)
    if decision.group is not None:
        info["groupIdToken"] = id_token_to_v2(decision.group)
    return info


_NEEDS_DECISION = (
    ev.StationBooted
    | ev.HeartbeatReceived
    | ev.AuthorizationRequested
    | ev.DataTransferReceived
    | ev.CertificateRequested
)


def to_reply(event: ev.Event, decision: Decision) -> dict[str, Any]:
    """The CALLRESULT payload answering ``event`` with ``decision``.

    Raises:
        TypeError: the decision does not answer this kind of event.
    """
    if isinstance(decision, ClockDecision) and isinstance(event, ev.HeartbeatReceived):
        return {"currentTime": format_datetime(decision.now)}
    if isinstance(decision, Acknowledged) and not isinstance(event, _NEEDS_DECISION):
        return {}
    if isinstance(decision, BootDecision) and isinstance(event, ev.StationBooted):
        return {
            "currentTime": format_datetime(decision.now),
            "interval": decision.interval,
            "status": decision.status.value,
        }
    if isinstance(decision, AuthorizationDecision) and isinstance(event, ev.AuthorizationRequested):
        return {"idTokenInfo": _id_token_info(decision)}
    if isinstance(decision, TransactionDecision) and isinstance(
        event, ev.TransactionStarted | ev.TransactionUpdated | ev.TransactionEnded
    ):
        auth = decision.authorization
        return {} if auth is None else {"idTokenInfo": _id_token_info(auth)}
    shared = common.shared_reply(event, decision)
    if shared is not None:
        return shared
    raise TypeError(f"{type(decision).__name__} does not answer {type(event).__name__}")


_ACTION_OF: dict[type[Any], str] = {
    ev.StationBooted: "BootNotification",
    ev.HeartbeatReceived: "Heartbeat",
    ev.ConnectorStatusChanged: "StatusNotification",
    ev.AuthorizationRequested: "Authorize",
    ev.TransactionStarted: "TransactionEvent",
    ev.TransactionUpdated: "TransactionEvent",
    ev.TransactionEnded: "TransactionEvent",
    ev.MeterSampled: "MeterValues",
    ev.DataTransferReceived: "DataTransfer",
    ev.FirmwareStatusChanged: "FirmwareStatusNotification",
    ev.LogUploadStatusChanged: "LogStatusNotification",
    ev.CertificateRequested: "SignCertificate",
    ev.SecurityEventRaised: "SecurityEventNotification",
}


def action_of(event: ev.Event) -> str:
    """The 2.x action that reported ``event`` (whose response schema the reply must meet)."""
    if isinstance(event, ev.StationMessage):
        return event.action
    return _ACTION_OF[type(event)]


class V201Adapter:
    """OCPP 2.0.1 as a ``VersionAdapter``."""

    __slots__ = ()

    version = VERSION
    subprotocol = "ocpp2.0.1"
    dialect = frames.V201
    station_actions = STATION_ACTIONS
    to_event = staticmethod(to_event)
    action_of = staticmethod(action_of)
    to_reply = staticmethod(to_reply)
    to_call = staticmethod(to_call)
    to_result = staticmethod(to_result)

    @property
    def schemas(self) -> Schemas:
        return schemas.shared(self.dialect)


ADAPTER = V201Adapter()
