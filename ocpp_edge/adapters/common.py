"""What the version adapters share: date-times, id tokens, meter samples, and the messages
that read the same in OCPP 1.6 and 2.x (DataTransfer, SecurityEventNotification, GetLog,
LogStatusNotification, DeleteCertificate, GetLocalListVersion, the shared replies).

A value the schema lets through but the platform cannot read (an unparseable date-time, a
non-numeric Raw meter value) raises ``ValueError``; the protocol answers it with a
PropertyConstraintViolation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from charging import commands as cmd
from charging import events as ev
from charging.events import IdToken, IdTokenType, MeterSample, default_unit, to_base_unit
from charging.outcomes import CertificateSigningDecision, DataTransferDecision, Decision

Call = tuple[str, dict[str, Any]]
"""An outgoing CALL's (action, payload)."""


def drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without its ``None`` values (OCPP omits an absent optional field)."""
    return {key: value for key, value in payload.items() if value is not None}


def parse_datetime(text: str) -> datetime:
    """An OCPP dateTime (RFC 3339); a time without offset is read as UTC."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def optional_datetime(text: str | None) -> datetime | None:
    return None if text is None else parse_datetime(text)


def format_datetime(value: datetime) -> str:
    """UTC with a ``Z`` suffix, as OCPP examples write it (``2024-05-01T12:00:00Z``)."""
    if value.tzinfo is UTC:  # the platform clock's times: the common case, formatted directly
        return value.isoformat()[:-6] + "Z"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def id_token_v2(data: dict[str, Any]) -> IdToken:
    """2.0.1 IdTokenType; a type outside the 2.0.1 enum (2.1 made it a string) reads as Local."""
    try:
        kind = IdTokenType(data["type"])
    except ValueError:
        kind = IdTokenType.LOCAL
    return IdToken(data["idToken"], kind)


def id_token_to_v2(token: IdToken) -> dict[str, Any]:
    kind = IdTokenType.LOCAL if token.type is IdTokenType.ID_TAG else token.type
    return {"idToken": token.value, "type": kind.value}


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where} {text[:32]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{where} {text[:32]!r} is not a finite number")
    return value


def _scaled(value: float, unit: str, multiplier: int = 0) -> tuple[float, str]:
    """``to_base_unit``, refusing a reading that no float can hold once scaled."""
    try:
        scaled, base = to_base_unit(value, unit, multiplier)
    except OverflowError:
        scaled, base = float("inf"), unit
    if scaled != scaled or scaled in (float("inf"), float("-inf")):
        raise ValueError(f"sampledValue {value!r} {unit} x 10^{multiplier} is out of range")
    return scaled, base


def _sample(
    timestamp: datetime, measurand: str, value: float, unit: str, sampled: dict[str, Any]
) -> MeterSample:
    return MeterSample(
        timestamp,
        measurand,
        value,
        unit,
        sampled.get("phase"),
        sampled.get("context"),
        sampled.get("location"),
    )


def samples_v16(meter_values: list[dict[str, Any]]) -> tuple[MeterSample, ...]:
    """1.6 MeterValue list (4.7, 7.31 SampledValue): string values, optional unit (default Wh).

    SignedData samples are skipped: their value is a signature, not a reading.
    """
    samples: list[MeterSample] = []
    for meter_value in meter_values:
        timestamp = parse_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            if sampled.get("format") == "SignedData":
                continue
            measurand = sampled.get("measurand", "Energy.Active.Import.Register")
            raw = _number(sampled["value"], "sampledValue.value")
            value, unit = _scaled(raw, sampled.get("unit") or default_unit(measurand))
            samples.append(_sample(timestamp, measurand, value, unit, sampled))
    return tuple(samples)


def samples_v2(meter_values: list[dict[str, Any]]) -> tuple[MeterSample, ...]:
    """2.0.1 MeterValueType list (2.7.x SampledValueType): numeric values, unitOfMeasure with a
    power-of-ten multiplier."""
    samples: list[MeterSample] = []
    for meter_value in meter_values:
        timestamp = parse_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            measurand = sampled.get("measurand", "Energy.Active.Import.Register")
            unit_of_measure = sampled.get("unitOfMeasure") or {}
            unit = unit_of_measure.get("unit") or default_unit(measurand)
            value, unit = _scaled(
                float(sampled["value"]), unit, unit_of_measure.get("multiplier", 0)
            )
            samples.append(_sample(timestamp, measurand, value, unit, sampled))
    return tuple(samples)


def energy_register_wh(samples: tuple[MeterSample, ...]) -> float | None:
    """The last Energy.Active.Import.Register reading (whole-meter, no phase), if any."""
    found = None
    for sample in samples:
        if sample.measurand == "Energy.Active.Import.Register" and sample.phase is None:
            found = sample.value
    return found


def shared_reply(event: ev.Event, decision: Decision) -> dict[str, Any] | None:
    """Replies that read the same in OCPP 1.6 and 2.x (DataTransfer, SignCertificate), or None."""
    if isinstance(decision, DataTransferDecision) and isinstance(event, ev.DataTransferReceived):
        reply: dict[str, Any] = {"status": decision.status.value}
        if decision.data is not None:
            reply["data"] = decision.data
        return reply
    if isinstance(decision, CertificateSigningDecision) and isinstance(
        event, ev.CertificateRequested
    ):
        return {"status": "Accepted" if decision.accepted else "Rejected"}
    return None


def heartbeat_event(station_id: str, _payload: dict[str, Any]) -> ev.Event:
    return ev.HeartbeatReceived(station_id)


def data_transfer_event(station_id: str, p: dict[str, Any]) -> ev.Event:
    """DataTransfer from the station (1.6 4.3, 2.0.1 P01)."""
    return ev.DataTransferReceived(station_id, p["vendorId"], p.get("messageId"), p.get("data"))


def log_status_event(station_id: str, p: dict[str, Any]) -> ev.Event:
    """LogStatusNotification (1.6 Security Whitepaper 4.4, 2.0.1 N01)."""
    return ev.LogUploadStatusChanged(station_id, p["status"], p.get("requestId"))


def security_event(station_id: str, p: dict[str, Any]) -> ev.Event:
    """SecurityEventNotification (1.6 Security Whitepaper 4.5, 2.0.1 A04)."""
    return ev.SecurityEventRaised(
        station_id, p["type"], parse_datetime(p["timestamp"]), p.get("techInfo")
    )


def data_transfer_call(c: cmd.DataTransfer) -> Call:
    return "DataTransfer", drop_none(
        {"vendorId": c.vendor_id, "messageId": c.message_id, "data": c.data}
    )


def delete_certificate_call(c: cmd.DeleteCertificate) -> Call:
    """DeleteCertificate: the same CertificateHashData in 1.6 (Whitepaper) and 2.x (M04)."""
    return "DeleteCertificate", {
        "certificateHashData": {
            "hashAlgorithm": c.hash_data.hash_algorithm,
            "issuerNameHash": c.hash_data.issuer_name_hash,
            "issuerKeyHash": c.hash_data.issuer_key_hash,
            "serialNumber": c.hash_data.serial_number,
        }
    }


def get_log_call(c: cmd.GetLog) -> Call:
    """GetLog: the same fields in 1.6 (Security Whitepaper) and 2.x (N01)."""
    log = {
        "remoteLocation": c.location,
        "oldestTimestamp": c.oldest and format_datetime(c.oldest),
        "latestTimestamp": c.latest and format_datetime(c.latest),
    }
    return "GetLog", drop_none(
        {
            "logType": c.log_type.value,
            "requestId": c.request_id,
            "retries": c.retries,
            "retryInterval": c.retry_interval_s,
            "log": drop_none(log),
        }
    )


def local_list_version_call(_c: cmd.GetLocalListVersion) -> Call:
    return "GetLocalListVersion", {}


def schedule_periods(schedule: cmd.ChargingSchedule) -> list[dict[str, Any]]:
    """A schedule's ChargingSchedulePeriod list (1.6 7.9, 2.0.1 2.13), the same in both."""
    return [
        drop_none(
            {
                "startPeriod": period.start_offset_s,
                "limit": period.limit,
                "numberPhases": period.number_phases,
            }
        )
        for period in schedule.periods
    ]


def status_result(payload: dict[str, Any]) -> cmd.CommandResult:
    """An answer read by its ``status`` (``Accepted`` when it has none)."""
    return cmd.CommandResult(str(payload.get("status", "Accepted")), payload)
