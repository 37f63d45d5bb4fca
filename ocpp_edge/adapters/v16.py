"""OCPP-J 1.6 adapter, with the Security Whitepaper Ed. 3 messages: a pure translator.

``to_event`` turns a validated station request into an event, ``to_reply`` a decision into the
CALLRESULT payload, ``to_call`` a command into (action, payload), ``to_result`` the station's
answer into a ``CommandResult`` (the last two in ``v16_commands``). Payloads are assumed
schema-valid (see ``ocpp_edge.schemas``). ``ADAPTER`` offers them as a ``VersionAdapter``.
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
    format_datetime,
    optional_datetime,
    parse_datetime,
    samples_v16,
)
from ocpp_edge.adapters.v16_commands import VERSION, to_call, to_result
from ocpp_edge.schemas import Schemas

__all__ = [
    "ADAPTER",
    "STATION_ACTIONS",
    "VERSION",
    "V16Adapter",
    "action_of",
    "to_call",
    "to_event",
    "to_reply",
    "to_result",
]

_V16_AUTHORIZATION = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})


def _connector(connector_id: int) -> tuple[int, int | None]:
    """1.6 connector n -> (evse n, connector 1); connector 0 is the station itself."""
    return (connector_id, 1) if connector_id > 0 else (0, None)


def _tag(payload: dict[str, Any], key: str = "idTag") -> ev.IdToken | None:
    value = payload.get(key)
    return None if value is None else ev.IdToken(value)


def _boot(station_id: str, p: dict[str, Any]) -> ev.Event:
    return ev.StationBooted(
        station_id,
        vendor=p["chargePointVendor"],
        model=p["chargePointModel"],
        serial_number=p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
        firmware_version=p.get("firmwareVersion"),
        modem_iccid=p.get("iccid"),
        modem_imsi=p.get("imsi"),
    )


def _status(station_id: str, p: dict[str, Any]) -> ev.Event:
    evse_id, connector_id = _connector(p["connectorId"])
    error_code = p["errorCode"]
    return ev.ConnectorStatusChanged(
        station_id,
        evse_id,
        connector_id,
        ev.status_from_v16(p["status"]),
        timestamp=optional_datetime(p.get("timestamp")),
        detail=p["status"],
        error_code=None if error_code == "NoError" else error_code,
        info=p.get("info"),
        vendor_error_code=p.get("vendorErrorCode"),
    )


def _start(station_id: str, p: dict[str, Any]) -> ev.Event:
    evse_id, connector_id = _connector(p["connectorId"])
    return ev.TransactionStarted(
        station_id,
        transaction_ref=None,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=ev.IdToken(p["idTag"]),
        timestamp=parse_datetime(p["timestamp"]),
        meter_start_wh=float(p["meterStart"]),
        reservation_id=p.get("reservationId"),
    )


def _stop(station_id: str, p: dict[str, Any]) -> ev.Event:
    return ev.TransactionEnded(
        station_id,
        transaction_ref=str(p["transactionId"]),
        evse_id=None,
        connector_id=None,
        id_token=_tag(p),
        timestamp=parse_datetime(p["timestamp"]),
        meter_stop_wh=float(p["meterStop"]),
        stop_reason=p.get("reason", "Local"),
        samples=samples_v16(p.get("transactionData", ())),
    )


def _meter(station_id: str, p: dict[str, Any]) -> ev.Event:
    evse_id, connector_id = _connector(p["connectorId"])
    transaction_id = p.get("transactionId")
    return ev.MeterSampled(
        station_id,
        evse_id,
        connector_id,
        samples_v16(p["meterValue"]),
        None if transaction_id is None else str(transaction_id),
    )


_TO_EVENT: dict[str, Callable[[str, dict[str, Any]], ev.Event]] = {
    "BootNotification": _boot,
    "Heartbeat": common.heartbeat_event,
    "StatusNotification": _status,
    "Authorize": lambda s, p: ev.AuthorizationRequested(s, ev.IdToken(p["idTag"])),
    "StartTransaction": _start,
    "StopTransaction": _stop,
    "MeterValues": _meter,
    "DataTransfer": common.data_transfer_event,
    "FirmwareStatusNotification": lambda s, p: ev.FirmwareStatusChanged(s, p["status"]),
    "SignedFirmwareStatusNotification": lambda s, p: ev.FirmwareStatusChanged(
        s, p["status"], p.get("requestId"), signed=True
    ),
    "DiagnosticsStatusNotification": lambda s, p: ev.LogUploadStatusChanged(
        s, p["status"], diagnostics=True
    ),
    "LogStatusNotification": common.log_status_event,
    "SecurityEventNotification": common.security_event,
    "SignCertificate": lambda s, p: ev.CertificateRequested(s, p["csr"]),
}

STATION_ACTIONS = frozenset(_TO_EVENT)


def to_event(station_id: str, action: str, payload: dict[str, Any]) -> ev.Event:
    """Translate a station-initiated request (one of ``STATION_ACTIONS``).

    Raises:
        KeyError: ``action`` is not station-initiated in 1.6.
        ValueError: a value the schema admits but the platform cannot read.
    """
    return _TO_EVENT[action](station_id, payload)


def _id_tag_info(decision: AuthorizationDecision) -> dict[str, Any]:
    status = decision.status.value if decision.status in _V16_AUTHORIZATION else "Invalid"
    info: dict[str, Any] = {"status": status}
    if decision.expiry is not None:
        info["expiryDate"] = format_datetime(decision.expiry)
    if decision.group is not None:
        info["parentIdTag"] = decision.group.value
    return info


def to_reply(event: ev.Event, decision: Decision) -> dict[str, Any]:
    """The CALLRESULT payload answering ``event`` with ``decision``.

    Raises:
        TypeError: the decision does not answer this kind of event.
    """
    if isinstance(decision, ClockDecision) and isinstance(event, ev.HeartbeatReceived):
        return {"currentTime": format_datetime(decision.now)}
    if isinstance(decision, Acknowledged) and not isinstance(
        event,
        ev.StationBooted
        | ev.HeartbeatReceived
        | ev.AuthorizationRequested
        | ev.TransactionStarted
        | ev.DataTransferReceived
        | ev.CertificateRequested,
    ):
        return {}
    if isinstance(decision, BootDecision) and isinstance(event, ev.StationBooted):
        return {
            "status": decision.status.value,
            "currentTime": format_datetime(decision.now),
            "interval": decision.interval,
        }
    if isinstance(decision, AuthorizationDecision) and isinstance(event, ev.AuthorizationRequested):
        return {"idTagInfo": _id_tag_info(decision)}
    if isinstance(decision, TransactionDecision):
        if isinstance(event, ev.TransactionStarted):
            if decision.transaction_id is None or decision.authorization is None:
                raise TypeError("1.6 StartTransaction needs a transaction id and an authorization")
            return {
                "transactionId": decision.transaction_id,
                "idTagInfo": _id_tag_info(decision.authorization),
            }
        if isinstance(event, ev.TransactionEnded):
            auth = decision.authorization
            return {} if auth is None else {"idTagInfo": _id_tag_info(auth)}
    shared = common.shared_reply(event, decision)
    if shared is not None:
        return shared
    raise TypeError(f"{type(decision).__name__} does not answer {type(event).__name__}")


_ACTION_OF: dict[type[Any], str] = {
    ev.StationBooted: "BootNotification",
    ev.HeartbeatReceived: "Heartbeat",
    ev.ConnectorStatusChanged: "StatusNotification",
    ev.AuthorizationRequested: "Authorize",
    ev.TransactionStarted: "StartTransaction",
    ev.TransactionEnded: "StopTransaction",
    ev.MeterSampled: "MeterValues",
    ev.DataTransferReceived: "DataTransfer",
    ev.CertificateRequested: "SignCertificate",
    ev.SecurityEventRaised: "SecurityEventNotification",
}


def action_of(event: ev.Event) -> str:
    """The 1.6 action that reported ``event`` (whose response schema the reply must meet)."""
    if isinstance(event, ev.FirmwareStatusChanged):
        return "SignedFirmwareStatusNotification" if event.signed else "FirmwareStatusNotification"
    if isinstance(event, ev.LogUploadStatusChanged):
        return "DiagnosticsStatusNotification" if event.diagnostics else "LogStatusNotification"
    if isinstance(event, ev.StationMessage):
        return event.action
    return _ACTION_OF[type(event)]


class V16Adapter:
    """OCPP-J 1.6 as a ``VersionAdapter``."""

    __slots__ = ()

    version = VERSION
    subprotocol = "ocpp1.6"
    dialect = frames.V16
    station_actions = STATION_ACTIONS
    to_event = staticmethod(to_event)
    action_of = staticmethod(action_of)
    to_reply = staticmethod(to_reply)
    to_call = staticmethod(to_call)
    to_result = staticmethod(to_result)

    @property
    def schemas(self) -> Schemas:
        return schemas.shared(self.dialect)


ADAPTER = V16Adapter()
