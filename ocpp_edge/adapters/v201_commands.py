"""OCPP 2.0.1 (and 2.1): platform commands to calls, answers to results (Part 2 use cases)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from charging import commands as cmd
from charging.events import CertificateSigningUse
from ocpp_edge.adapters.common import (
    Call,
    data_transfer_call,
    delete_certificate_call,
    drop_none,
    format_datetime,
    get_log_call,
    id_token_to_v2,
    local_list_version_call,
    schedule_periods,
    status_result,
)
from ocpp_edge.errors import UnsupportedError

VERSION = "2.0.1"

_SIGNING_TRIGGER = {
    CertificateSigningUse.CHARGING_STATION: "SignChargingStationCertificate",
    CertificateSigningUse.V2G: "SignV2GCertificate",
}


def _evse(evse_id: int | None) -> dict[str, Any] | None:
    return None if evse_id is None else {"id": evse_id}


def parse_key(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``Component[/instance].Variable`` -> (component, variable) of a 2.0.1 variable.

    Raises:
        ValueError: the key has no ``Component.`` part.
    """
    component, dot, variable = key.partition(".")
    if not dot or not component or not variable:
        raise ValueError(f"configuration key {key[:60]!r} is not 'Component.Variable'")
    name, slash, instance = component.partition("/")
    found: dict[str, Any] = {"name": name}
    if slash:
        found["instance"] = instance
    return found, {"name": variable}


def format_key(component: dict[str, Any], variable: dict[str, Any]) -> str:
    """The inverse of ``parse_key``."""
    name = component["name"]
    if "instance" in component:
        name = f"{name}/{component['instance']}"
    return f"{name}.{variable['name']}"


def _get_variables(c: cmd.GetConfiguration) -> Call:
    if not c.keys:
        raise UnsupportedError(VERSION, "reading every variable (use GetBaseReport)")
    data = []
    for key in c.keys:
        component, variable = parse_key(key)
        data.append({"component": component, "variable": variable})
    return "GetVariables", {"getVariableData": data}


def _set_variables(c: cmd.Configure) -> Call:
    component, variable = parse_key(c.key)
    return "SetVariables", {
        "setVariableData": [
            {"attributeValue": c.value, "component": component, "variable": variable}
        ]
    }


def _trigger(c: cmd.Trigger) -> Call:
    if c.message is cmd.TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION:
        raise UnsupportedError(VERSION, "a trigger of DiagnosticsStatusNotification")
    return "TriggerMessage", drop_none(
        {"requestedMessage": c.message.value, "evse": _evse(c.evse_id)}
    )


def _profile(c: cmd.SetChargingSchedule) -> Call:
    schedule = c.schedule
    profile = {
        "id": c.profile_id,
        "stackLevel": c.stack_level,
        "chargingProfilePurpose": c.purpose.value,
        "chargingProfileKind": c.kind.value,
        "transactionId": c.transaction_ref,
        "chargingSchedule": [
            drop_none(
                {
                    "id": schedule.schedule_id,
                    "startSchedule": schedule.start and format_datetime(schedule.start),
                    "duration": schedule.duration_s,
                    "chargingRateUnit": schedule.unit,
                    "chargingSchedulePeriod": schedule_periods(schedule),
                }
            )
        ],
    }
    return "SetChargingProfile", {"evseId": c.evse_id, "chargingProfile": drop_none(profile)}


def _clear(c: cmd.ClearChargingSchedule) -> Call:
    criteria = drop_none(
        {
            "evseId": c.evse_id,
            "chargingProfilePurpose": c.purpose and c.purpose.value,
            "stackLevel": c.stack_level,
        }
    )
    return "ClearChargingProfile", drop_none(
        {"chargingProfileId": c.profile_id, "chargingProfileCriteria": criteria or None}
    )


def _firmware(c: cmd.UpdateFirmware | cmd.SignedUpdateFirmware) -> Call:
    firmware: dict[str, Any] = {
        "location": c.location,
        "retrieveDateTime": format_datetime(c.retrieve_at),
    }
    if c.install_at is not None:
        firmware["installDateTime"] = format_datetime(c.install_at)
    if isinstance(c, cmd.SignedUpdateFirmware):
        firmware["signingCertificate"] = c.signing_certificate
        firmware["signature"] = c.signature
    return "UpdateFirmware", drop_none(
        {
            "requestId": c.request_id,
            "firmware": firmware,
            "retries": c.retries,
            "retryInterval": c.retry_interval_s,
        }
    )


def _diagnostics(_c: cmd.GetDiagnostics) -> Call:
    raise UnsupportedError(VERSION, "GetDiagnostics (use GetLog)")


def _local_entry(entry: cmd.LocalListEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"idToken": id_token_to_v2(entry.id_token)}
    if entry.status is not None:
        item["idTokenInfo"] = drop_none(
            {
                "status": entry.status,
                "cacheExpiryDateTime": entry.expiry and format_datetime(entry.expiry),
                "groupIdToken": entry.group and id_token_to_v2(entry.group),
            }
        )
    return item


def _local_list(c: cmd.SendLocalList) -> Call:
    payload: dict[str, Any] = {"versionNumber": c.version, "updateType": c.update.value}
    if c.entries:
        payload["localAuthorizationList"] = [_local_entry(entry) for entry in c.entries]
    return "SendLocalList", payload


_URL_SCHEME = {1: "ws", 2: "wss", 3: "wss"}  # 2.0.1 A00.FR.2xx: profile 1 plain, 2 and 3 TLS
_MAX_URL = 512  # NetworkConnectionProfileType.ocppCsmsUrl


def _network_profile(c: cmd.SetNetworkProfile) -> Call:
    """SetNetworkProfile (B09) with JSON transport.

    Raises:
        ValueError: an unknown security profile, a URL that does not match it (ws:// for 1,
            wss:// for 2 and 3) or carries credentials, a query, a fragment or whitespace, a
            negative slot or a timeout that is not positive.
    """
    scheme = _URL_SCHEME.get(c.security_profile)
    if scheme is None:
        raise ValueError(f"security profile {c.security_profile} is not 1, 2 or 3")
    if c.configuration_slot < 0:
        raise ValueError(f"configuration slot {c.configuration_slot} is negative")
    if c.message_timeout_s <= 0:
        raise ValueError(f"message timeout {c.message_timeout_s} s is not positive")
    url = c.csms_url
    if len(url) > _MAX_URL or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError(f"CSMS URL {url[:60]!r} is too long or holds whitespace")
    try:
        parts = urlsplit(url)
        valid = bool(parts.hostname) and parts.port != 0 and parts.username is None
    except ValueError:  # a broken IPv6 literal or port
        valid = False
    if not valid or parts.scheme != scheme or parts.query or parts.fragment:
        raise ValueError(
            f"CSMS URL {url[:60]!r} is not a plain {scheme}:// URL "
            f"for security profile {c.security_profile}"
        )
    return "SetNetworkProfile", {
        "configurationSlot": c.configuration_slot,
        "connectionData": {
            "ocppVersion": c.ocpp_version.value,
            "ocppTransport": "JSON",
            "ocppCsmsUrl": url,
            "messageTimeout": c.message_timeout_s,
            "securityProfile": c.security_profile,
            "ocppInterface": c.ocpp_interface.value,
        },
    }


_TO_CALL: dict[type[Any], Callable[[Any], Call]] = {
    cmd.StartCharging: lambda c: (
        "RequestStartTransaction",
        drop_none(
            {
                "idToken": id_token_to_v2(c.id_token),
                "remoteStartId": c.remote_start_id,
                "evseId": c.evse_id,
            }
        ),
    ),
    cmd.StopCharging: lambda c: ("RequestStopTransaction", {"transactionId": c.transaction_ref}),
    cmd.Reset: lambda c: ("Reset", drop_none({"type": c.mode.value, "evseId": c.evse_id})),
    cmd.UnlockConnector: lambda c: (
        "UnlockConnector",
        {"evseId": c.evse_id, "connectorId": c.connector_id},
    ),
    cmd.ChangeAvailability: lambda c: (
        "ChangeAvailability",
        drop_none(
            {
                "operationalStatus": "Operative" if c.operative else "Inoperative",
                "evse": _evse(c.evse_id),
            }
        ),
    ),
    cmd.GetConfiguration: _get_variables,
    cmd.Configure: _set_variables,
    cmd.Trigger: _trigger,
    cmd.DataTransfer: data_transfer_call,
    cmd.SetChargingSchedule: _profile,
    cmd.ClearChargingSchedule: _clear,
    cmd.UpdateFirmware: _firmware,
    cmd.SignedUpdateFirmware: _firmware,
    cmd.GetLog: get_log_call,
    cmd.GetDiagnostics: _diagnostics,
    cmd.InstallCertificate: lambda c: (
        "InstallCertificate",
        {"certificateType": c.certificate_type.value, "certificate": c.certificate},
    ),
    cmd.SendCertificate: lambda c: (
        "CertificateSigned",
        drop_none(
            {
                "certificateChain": c.certificate_chain,
                "certificateType": c.certificate_type and c.certificate_type.value,
            }
        ),
    ),
    cmd.GetInstalledCertificateIds: lambda c: (
        "GetInstalledCertificateIds",
        {"certificateType": [use.value for use in c.certificate_types]}
        if c.certificate_types
        else {},
    ),
    cmd.DeleteCertificate: delete_certificate_call,
    cmd.TriggerCertificateSigning: lambda c: (
        "TriggerMessage",
        {"requestedMessage": _SIGNING_TRIGGER[c.certificate_type]},
    ),
    cmd.SendLocalList: _local_list,
    cmd.GetLocalListVersion: local_list_version_call,
    cmd.SetNetworkProfile: _network_profile,
}


def to_call(command: cmd.Command) -> Call:
    """The 2.0.1 (action, payload) carrying ``command``.

    Raises:
        UnsupportedError: 2.0.1 cannot express the command.
        ValueError: a configuration key not written ``Component.Variable``; a network
            profile with malformed connection data.
    """
    return _TO_CALL[type(command)](command)


def to_result(command: cmd.Command, payload: dict[str, Any]) -> cmd.CommandResult:
    """Normalise the station's (schema-valid) answer to ``command``."""
    if isinstance(command, cmd.GetConfiguration):
        values = {
            format_key(item["component"], item["variable"]): item.get("attributeValue")
            for item in payload["getVariableResult"]
        }
        return cmd.CommandResult("Accepted", payload, values)
    if isinstance(command, cmd.Configure):
        return cmd.CommandResult(payload["setVariableResult"][0]["attributeStatus"], payload)
    if isinstance(command, cmd.GetLocalListVersion):
        return cmd.CommandResult(
            "Accepted", payload, {"versionNumber": str(payload["versionNumber"])}
        )
    if isinstance(command, cmd.GetLog):
        return cmd.CommandResult(payload["status"], payload, {"filename": payload.get("filename")})
    return status_result(payload)
