"""What a simulated station says, per OCPP version: request payloads as plain dicts.

``V16Messages`` follows OCPP 1.6 section 6 (BootNotification 6.2, StatusNotification 6.47,
StartTransaction 6.45, MeterValues 6.31, StopTransaction 6.49); ``V201Messages`` OCPP 2.0.1 Part 2
(B01 boot, G01 status, C01 authorize, E01-E07 TransactionEvent, J01 meter values). The station
validates every payload against the version's schema before sending (``ocpp_edge.schemas``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from simulator.meter import PHASES, Reading

Message = tuple[str, dict[str, Any]]

VENDOR = "Chargeline"
MODEL = "SIM-11"
FIRMWARE = "1.0.0"


def timestamp(now: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds, as OCPP-J asks."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class ChargingSession:
    """One transaction on one EVSE, as the station keeps it."""

    evse_id: int
    id_tag: str
    local_ref: str
    transaction_ref: str | None = None
    remote_start_id: int | None = None
    seq_no: int = 0
    meter_start_wh: float = 0.0
    samples_sent: int = 0
    stop_reason: str = "Local"
    extra: dict[str, Any] = field(default_factory=dict)

    def next_seq(self) -> int:
        seq = self.seq_no
        self.seq_no += 1
        return seq


class StationMessages(Protocol):
    version: str

    def boot(self, serial: str, reason: str, firmware: str = FIRMWARE) -> Message: ...

    def status(self, evse_id: int, status: str) -> Message: ...

    def authorize(self, id_tag: str) -> Message: ...

    def started(self, session: ChargingSession, reading: Reading, remote: bool) -> Message: ...

    def started_reply(self, session: ChargingSession, reply: dict[str, Any]) -> str: ...

    def meter(self, session: ChargingSession, reading: Reading) -> Message: ...

    def ended(self, session: ChargingSession, reading: Reading) -> Message: ...

    def idle_meter(self, evse_id: int, reading: Reading) -> Message: ...


def _sampled(reading: Reading, context: str, *, strings: bool) -> list[dict[str, Any]]:
    """Energy register, power, per-phase current and voltage, and SoC of one instant."""

    def value(number: float) -> Any:
        return str(round(number, 3)) if strings else number

    def sample(measurand: str, number: float, unit: str, **more: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"value": value(number), "context": context}
        entry["measurand"] = measurand
        if strings:
            entry["unit"] = unit
        else:
            entry["unitOfMeasure"] = {"unit": unit}
        entry.update(more)
        return entry

    values = [
        sample("Energy.Active.Import.Register", reading.energy_wh, "Wh", location="Outlet"),
        sample("Power.Active.Import", reading.power_w, "W", location="Outlet"),
    ]
    for phase, current in zip(PHASES, reading.current_a, strict=True):
        values.append(sample("Current.Import", current, "A", phase=phase, location="Outlet"))
    for phase, voltage in zip(PHASES, reading.voltage_v, strict=True):
        values.append(sample("Voltage", voltage, "V", phase=f"{phase}-N", location="Outlet"))
    values.append(sample("SoC", reading.soc_percent, "Percent", location="EV"))
    return values


_V16_STATUS = {"Occupied": "Preparing"}


class V16Messages:
    """OCPP 1.6: connector ids are the EVSE ids; the CSMS gives the transaction id."""

    version = "1.6"

    def boot(self, serial: str, reason: str, firmware: str = FIRMWARE) -> Message:  # noqa: ARG002 - 1.6 has no reason
        return "BootNotification", {
            "chargePointVendor": VENDOR,
            "chargePointModel": MODEL,
            "chargePointSerialNumber": serial[:25],
            "firmwareVersion": firmware,
        }

    def status(self, evse_id: int, status: str) -> Message:
        return "StatusNotification", {
            "connectorId": evse_id,
            "errorCode": "NoError",
            "status": _V16_STATUS.get(status, status),
            "timestamp": timestamp(),
        }

    def authorize(self, id_tag: str) -> Message:
        return "Authorize", {"idTag": id_tag}

    def started(self, session: ChargingSession, reading: Reading, remote: bool) -> Message:  # noqa: ARG002
        return "StartTransaction", {
            "connectorId": session.evse_id,
            "idTag": session.id_tag,
            "meterStart": int(reading.energy_wh),
            "timestamp": timestamp(),
        }

    def started_reply(self, session: ChargingSession, reply: dict[str, Any]) -> str:  # noqa: ARG002
        session.transaction_ref = str(reply["transactionId"])
        status: str = reply["idTagInfo"]["status"]
        return status

    def meter(self, session: ChargingSession, reading: Reading) -> Message:
        assert session.transaction_ref is not None
        return "MeterValues", {
            "connectorId": session.evse_id,
            "transactionId": int(session.transaction_ref),
            "meterValue": [
                {
                    "timestamp": timestamp(),
                    "sampledValue": _sampled(reading, "Sample.Periodic", strings=True),
                }
            ],
        }

    def ended(self, session: ChargingSession, reading: Reading) -> Message:
        assert session.transaction_ref is not None
        return "StopTransaction", {
            "transactionId": int(session.transaction_ref),
            "idTag": session.id_tag,
            "meterStop": int(reading.energy_wh),
            "timestamp": timestamp(),
            "reason": session.stop_reason,
            "transactionData": [
                {
                    "timestamp": timestamp(),
                    "sampledValue": _sampled(reading, "Transaction.End", strings=True)[:1],
                }
            ],
        }

    def idle_meter(self, evse_id: int, reading: Reading) -> Message:
        return "MeterValues", {
            "connectorId": evse_id,
            "meterValue": [
                {
                    "timestamp": timestamp(),
                    "sampledValue": _sampled(reading, "Trigger", strings=True)[:1],
                }
            ],
        }


_V201_STATUS = {"Preparing": "Occupied", "Charging": "Occupied", "Finishing": "Occupied"}
_V201_STOP = {"HardReset": "ImmediateReset", "SoftReset": "ImmediateReset", "Reboot": "Reboot"}


class V201Messages:
    """OCPP 2.0.1: the station names its transactions; one TransactionEvent per change."""

    version = "2.0.1"

    def boot(self, serial: str, reason: str, firmware: str = FIRMWARE) -> Message:
        return "BootNotification", {
            "chargingStation": {
                "vendorName": VENDOR,
                "model": MODEL,
                "serialNumber": serial[:25],
                "firmwareVersion": firmware,
            },
            "reason": reason,
        }

    def status(self, evse_id: int, status: str) -> Message:
        return "StatusNotification", {
            "timestamp": timestamp(),
            "connectorStatus": _V201_STATUS.get(status, status),
            "evseId": evse_id,
            "connectorId": 1,
        }

    def authorize(self, id_tag: str) -> Message:
        return "Authorize", {"idToken": {"idToken": id_tag, "type": "ISO14443"}}

    def _event(
        self, session: ChargingSession, event_type: str, trigger: str, info: dict[str, Any]
    ) -> dict[str, Any]:
        assert session.transaction_ref is not None
        return {
            "eventType": event_type,
            "timestamp": timestamp(),
            "triggerReason": trigger,
            "seqNo": session.next_seq(),
            "transactionInfo": {"transactionId": session.transaction_ref, **info},
        }

    def started(self, session: ChargingSession, reading: Reading, remote: bool) -> Message:
        session.transaction_ref = session.local_ref
        info: dict[str, Any] = {"chargingState": "Charging"}
        if session.remote_start_id is not None:
            info["remoteStartId"] = session.remote_start_id
        payload = self._event(session, "Started", "RemoteStart" if remote else "Authorized", info)
        payload["idToken"] = {"idToken": session.id_tag, "type": "ISO14443"}
        payload["evse"] = {"id": session.evse_id, "connectorId": 1}
        payload["meterValue"] = [
            {
                "timestamp": timestamp(),
                "sampledValue": _sampled(reading, "Transaction.Begin", strings=False)[:1],
            }
        ]
        return "TransactionEvent", payload

    def started_reply(self, session: ChargingSession, reply: dict[str, Any]) -> str:  # noqa: ARG002
        info = reply.get("idTokenInfo")
        return "Accepted" if info is None else str(info["status"])

    def meter(self, session: ChargingSession, reading: Reading) -> Message:
        payload = self._event(
            session, "Updated", "MeterValuePeriodic", {"chargingState": "Charging"}
        )
        payload["evse"] = {"id": session.evse_id, "connectorId": 1}
        payload["meterValue"] = [
            {
                "timestamp": timestamp(),
                "sampledValue": _sampled(reading, "Sample.Periodic", strings=False),
            }
        ]
        return "TransactionEvent", payload

    def ended(self, session: ChargingSession, reading: Reading) -> Message:
        reason = _V201_STOP.get(session.stop_reason, session.stop_reason)
        trigger = {"Remote": "RemoteStop", "ImmediateReset": "ResetCommand"}.get(
            reason, "StopAuthorized"
        )
        info = {"chargingState": "EVConnected", "stoppedReason": reason}
        payload = self._event(session, "Ended", trigger, info)
        payload["idToken"] = {"idToken": session.id_tag, "type": "ISO14443"}
        payload["evse"] = {"id": session.evse_id, "connectorId": 1}
        payload["meterValue"] = [
            {
                "timestamp": timestamp(),
                "sampledValue": _sampled(reading, "Transaction.End", strings=False)[:1],
            }
        ]
        return "TransactionEvent", payload

    def idle_meter(self, evse_id: int, reading: Reading) -> Message:
        return "MeterValues", {
            "evseId": evse_id,
            "meterValue": [
                {
                    "timestamp": timestamp(),
                    "sampledValue": _sampled(reading, "Trigger", strings=False)[:1],
                }
            ],
        }


class V21Messages(V201Messages):
    """OCPP 2.1: the 2.0.1 messages the simulator sends are unchanged in 2.1 (Part 2, B01, E01,
    G01, J01); the station validates them against the 2.1 schemas all the same."""

    version = "2.1"


def messages_for(version: str) -> StationMessages:
    """The message builder of ``version`` ("1.6", "2.0.1" or "2.1")."""
    if version == "1.6":
        return V16Messages()
    if version == "2.0.1":
        return V201Messages()
    if version == "2.1":
        return V21Messages()
    raise ValueError(f"the simulator speaks OCPP 1.6, 2.0.1 and 2.1, not {version!r}")
