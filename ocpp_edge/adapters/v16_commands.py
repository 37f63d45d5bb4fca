"""OCPP-J 1.6 (with Security Whitepaper Ed. 3): platform commands to calls, answers to results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charging import commands as cmd
from charging.events import CertificateSigningUse
from ocpp_edge.adapters.common import (
    Call,
    data_transfer_call,
    delete_certificate_call,
    drop_none,
    format_datetime,
    get_log_call,
    local_list_version_call,
    schedule_periods,
    status_result,
)
from ocpp_edge.errors import UnsupportedError

VERSION = "1.6"

_PURPOSE = {
    cmd.ChargingProfilePurpose.STATION_MAX: "ChargePointMaxProfile",
    cmd.ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    cmd.ChargingProfilePurpose.TX: "TxProfile",
}
_ROOT = {
    cmd.CertificateUse.CSMS_ROOT: "CentralSystemRootCertificate",
    cmd.CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
}
# TriggerMessage (1.6 5.17) covers these; LogStatusNotification needs ExtendedTriggerMessage.
_TRIGGER = frozenset(
    {
        cmd.TriggerKind.BOOT_NOTIFICATION,
        cmd.TriggerKind.HEARTBEAT,
        cmd.TriggerKind.STATUS_NOTIFICATION,
        cmd.TriggerKind.METER_VALUES,
        cmd.TriggerKind.FIRMWARE_STATUS_NOTIFICATION,
        cmd.TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION,
    }
)

# ExtendedTriggerMessage (Security Whitepaper 4.8): no DiagnosticsStatusNotification, plus
# LogStatusNotification; its FirmwareStatusNotification is a SignedFirmwareStatusNotification.
_EXTENDED_TRIGGER = frozenset(
    {
        cmd.TriggerKind.BOOT_NOTIFICATION,
        cmd.TriggerKind.HEARTBEAT,
        cmd.TriggerKind.STATUS_NOTIFICATION,
        cmd.TriggerKind.METER_VALUES,
        cmd.TriggerKind.FIRMWARE_STATUS_NOTIFICATION,
        cmd.TriggerKind.LOG_STATUS_NOTIFICATION,
    }
)


def _integer_transaction(ref: str) -> int:
    if not ref.isdigit() or len(ref) > 10:  # 1.6 transactionId is an int32
        raise UnsupportedError(VERSION, f"the non-integer transaction id {ref[:40]!r}")
    return int(ref)


def _root(use: cmd.CertificateUse) -> str:
    try:
        return _ROOT[use]
    except KeyError:
        raise UnsupportedError(VERSION, f"certificate type {use.value}") from None


def _start(c: cmd.StartCharging) -> Call:
    return "RemoteStartTransaction", drop_none(
        {"idTag": c.id_token.value, "connectorId": c.evse_id}
    )


def _reset(c: cmd.Reset) -> Call:
    if c.evse_id is not None:
        raise UnsupportedError(VERSION, "a reset of one EVSE")
    return "Reset", {"type": "Hard" if c.mode is cmd.ResetMode.IMMEDIATE else "Soft"}


def _unlock(c: cmd.UnlockConnector) -> Call:
    if c.connector_id != 1:
        raise UnsupportedError(VERSION, "more than one connector per EVSE")
    return "UnlockConnector", {"connectorId": c.evse_id}


def _trigger(c: cmd.Trigger) -> Call:
    if c.extended:
        if c.message not in _EXTENDED_TRIGGER:
            raise UnsupportedError(VERSION, f"an extended trigger of {c.message.value}")
        return "ExtendedTriggerMessage", drop_none(
            {"requestedMessage": c.message.value, "connectorId": c.evse_id}
        )
    if c.message in _TRIGGER:
        return "TriggerMessage", drop_none(
            {"requestedMessage": c.message.value, "connectorId": c.evse_id}
        )
    if c.message is cmd.TriggerKind.LOG_STATUS_NOTIFICATION:
        return "ExtendedTriggerMessage", drop_none(
            {"requestedMessage": c.message.value, "connectorId": c.evse_id}
        )
    raise UnsupportedError(VERSION, f"a trigger of {c.message.value}")


def _profile(c: cmd.SetChargingSchedule) -> Call:
    schedule = c.schedule
    profile = {
        "chargingProfileId": c.profile_id,
        "transactionId": None
        if c.transaction_ref is None
        else _integer_transaction(c.transaction_ref),
        "stackLevel": c.stack_level,
        "chargingProfilePurpose": _PURPOSE[c.purpose],
        "chargingProfileKind": c.kind.value,
        "chargingSchedule": drop_none(
            {
                "duration": schedule.duration_s,
                "startSchedule": schedule.start and format_datetime(schedule.start),
                "chargingRateUnit": schedule.unit,
                "chargingSchedulePeriod": schedule_periods(schedule),
            }
        ),
    }
    payload = {"connectorId": c.evse_id, "csChargingProfiles": drop_none(profile)}
    return "SetChargingProfile", payload


def _clear(c: cmd.ClearChargingSchedule) -> Call:
    return "ClearChargingProfile", drop_none(
        {
            "id": c.profile_id,
            "connectorId": c.evse_id,
            "chargingProfilePurpose": None if c.purpose is None else _PURPOSE[c.purpose],
            "stackLevel": c.stack_level,
        }
    )


def _signed_firmware(c: cmd.SignedUpdateFirmware) -> Call:
    firmware = {
        "location": c.location,
        "retrieveDateTime": format_datetime(c.retrieve_at),
        "installDateTime": None if c.install_at is None else format_datetime(c.install_at),
        "signingCertificate": c.signing_certificate,
        "signature": c.signature,
    }
    return "SignedUpdateFirmware", drop_none(
        {
            "requestId": c.request_id,
            "firmware": drop_none(firmware),
            "retries": c.retries,
            "retryInterval": c.retry_interval_s,
        }
    )


def _firmware(c: cmd.UpdateFirmware) -> Call:
    """UpdateFirmware (1.6 6.55): no request id, no signature, no install time."""
    if c.install_at is not None:
        raise UnsupportedError(VERSION, "an install time without SignedUpdateFirmware")
    return "UpdateFirmware", drop_none(
        {
            "location": c.location,
            "retrieveDate": format_datetime(c.retrieve_at),
            "retries": c.retries,
            "retryInterval": c.retry_interval_s,
        }
    )


def _diagnostics(c: cmd.GetDiagnostics) -> Call:
    """GetDiagnostics (1.6 6.33)."""
    return "GetDiagnostics", drop_none(
        {
            "location": c.location,
            "retries": c.retries,
            "retryInterval": c.retry_interval_s,
            "startTime": c.start and format_datetime(c.start),
            "stopTime": c.stop and format_datetime(c.stop),
        }
    )


def _send_certificate(c: cmd.SendCertificate) -> Call:
    if c.certificate_type not in (None, CertificateSigningUse.CHARGING_STATION):
        raise UnsupportedError(VERSION, "a V2G certificate")
    return "CertificateSigned", {"certificateChain": c.certificate_chain}


def _installed_ids(c: cmd.GetInstalledCertificateIds) -> Call:
    if len(c.certificate_types) != 1:
        raise UnsupportedError(VERSION, "a certificate id query for other than exactly one type")
    return "GetInstalledCertificateIds", {"certificateType": _root(c.certificate_types[0])}


def _sign_trigger(c: cmd.TriggerCertificateSigning) -> Call:
    if c.certificate_type is not CertificateSigningUse.CHARGING_STATION:
        raise UnsupportedError(VERSION, "a V2G certificate signing request")
    return "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}


def _local_entry(entry: cmd.LocalListEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"idTag": entry.id_token.value}
    if entry.status is not None:
        item["idTagInfo"] = drop_none(
            {
                "status": entry.status,
                "expiryDate": None if entry.expiry is None else format_datetime(entry.expiry),
                "parentIdTag": None if entry.group is None else entry.group.value,
            }
        )
    return item


def _local_list(c: cmd.SendLocalList) -> Call:
    return "SendLocalList", {
        "listVersion": c.version,
        "updateType": c.update.value,
        "localAuthorizationList": [_local_entry(entry) for entry in c.entries],
    }


def _network_profile(_c: cmd.SetNetworkProfile) -> Call:
    # 1.6 has one connection, raised with ChangeConfiguration SecurityProfile (Whitepaper 2.4)
    raise UnsupportedError(VERSION, "a network connection profile (use the SecurityProfile key)")


_TO_CALL: dict[type[Any], Callable[[Any], Call]] = {
    cmd.StartCharging: _start,
    cmd.StopCharging: lambda c: (
        "RemoteStopTransaction",
        {"transactionId": _integer_transaction(c.transaction_ref)},
    ),
    cmd.Reset: _reset,
    cmd.UnlockConnector: _unlock,
    cmd.ChangeAvailability: lambda c: (
        "ChangeAvailability",
        {"connectorId": c.evse_id or 0, "type": "Operative" if c.operative else "Inoperative"},
    ),
    cmd.GetConfiguration: lambda c: (
        "GetConfiguration",
        {"key": list(c.keys)} if c.keys else {},
    ),
    cmd.Configure: lambda c: ("ChangeConfiguration", {"key": c.key, "value": c.value}),
    cmd.Trigger: _trigger,
    cmd.DataTransfer: data_transfer_call,
    cmd.SetChargingSchedule: _profile,
    cmd.ClearChargingSchedule: _clear,
    cmd.UpdateFirmware: _firmware,
    cmd.SignedUpdateFirmware: _signed_firmware,
    cmd.GetLog: get_log_call,
    cmd.GetDiagnostics: _diagnostics,
    cmd.InstallCertificate: lambda c: (
        "InstallCertificate",
        {"certificateType": _root(c.certificate_type), "certificate": c.certificate},
    ),
    cmd.SendCertificate: _send_certificate,
    cmd.GetInstalledCertificateIds: _installed_ids,
    cmd.DeleteCertificate: delete_certificate_call,
    cmd.TriggerCertificateSigning: _sign_trigger,
    cmd.SendLocalList: _local_list,
    cmd.GetLocalListVersion: local_list_version_call,
    cmd.SetNetworkProfile: _network_profile,
}


def to_call(command: cmd.Command) -> Call:
    """The 1.6 (action, payload) carrying ``command``.

    Raises:
        Unsupported: 1.6 cannot express the command.
    """
    return _TO_CALL[type(command)](command)


def to_result(command: cmd.Command, payload: dict[str, Any]) -> cmd.CommandResult:
    """Normalise the station's (schema-valid) answer to ``command``."""
    if isinstance(command, cmd.GetConfiguration):
        values: dict[str, str | None] = {
            item["key"]: item.get("value") for item in payload.get("configurationKey", ())
        }
        values.update(dict.fromkeys(payload.get("unknownKey", ())))
        return cmd.CommandResult("Accepted", payload, values)
    if isinstance(command, cmd.GetLocalListVersion):
        return cmd.CommandResult("Accepted", payload, {"listVersion": str(payload["listVersion"])})
    if isinstance(command, cmd.GetDiagnostics):  # no status: a file name, or none to upload
        return cmd.CommandResult("Accepted", payload, {"fileName": payload.get("fileName")})
    if isinstance(command, cmd.GetLog):
        return cmd.CommandResult(payload["status"], payload, {"filename": payload.get("filename")})
    return status_result(payload)
