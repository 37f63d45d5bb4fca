"""How a simulated station answers the CSMS: pure functions from a CALL to a reply and an effect.

``answer(version, action, payload, state)`` returns the CALLRESULT payload and what the station
must do after replying (start or stop a session, reboot, send a triggered message). It keeps the
station's configuration, local authorization list and installed certificates in ``StationState``.
Actions it does not implement raise ``NotImplementedError``; the station turns that into a
NotImplemented CALLERROR (OCPP-J 4.2.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator import maintenance, profile_answers
from simulator.maintenance import MaintenanceEffect
from simulator.messages import VENDOR
from simulator.state import RESERVED, Setting, StationState


@dataclass(frozen=True, slots=True)
class StartSession:
    evse_id: int
    id_tag: str
    remote_start_id: int | None = None


@dataclass(frozen=True, slots=True)
class StopSession:
    transaction_ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reboot:
    """``immediate`` stops running sessions first (Hard / Immediate reset); ``reason`` is the
    next BootNotification's (2.x)."""

    immediate: bool
    reason: str = "RemoteReset"


@dataclass(frozen=True, slots=True)
class SendMessage:
    """A TriggerMessage asked for ``message`` (a requestedMessage value); ``extended`` when
    it came as a 1.6 ExtendedTriggerMessage."""

    message: str
    evse_id: int | None = None
    extended: bool = False


@dataclass(frozen=True, slots=True)
class SetAvailability:
    evse_id: int
    operative: bool


Effect = (
    StartSession | StopSession | Reboot | SendMessage | SetAvailability | MaintenanceEffect | None
)


Reply = tuple[dict[str, Any], Effect]
Handler = Callable[[dict[str, Any], StationState], Reply]


def _status(status: str, effect: Effect = None) -> Reply:
    return {"status": status}, effect


# -- shared by both versions ------------------------------------------------------------------


def _data_transfer(p: dict[str, Any], _s: StationState) -> Reply:
    if p["vendorId"] != VENDOR:
        return _status("UnknownVendorId")
    reply: dict[str, Any] = {"status": "Accepted"}
    if "data" in p:
        reply["data"] = p["data"]
    return reply, None


def _certificate_signed(p: dict[str, Any], s: StationState) -> Reply:
    chain = p["certificateChain"]
    if not chain.lstrip().startswith("-----BEGIN CERTIFICATE-----"):
        return _status("Rejected")
    s.certificates.append(chain)
    return _status("Accepted")


def _apply_local_list(
    s: StationState, version: int, update: str, entries: list[dict[str, Any]], key: str, info: str
) -> str:
    if update == "Differential" and version <= s.local_list_version:
        return "VersionMismatch"
    if update == "Full":
        s.local_list.clear()
    for entry in entries:
        token = entry[key] if isinstance(entry[key], str) else entry[key]["idToken"]
        if info in entry:
            s.local_list[token] = entry[info]
        else:
            s.local_list.pop(token, None)
    s.local_list_version = version
    return "Accepted"


def _start_or_reject(
    s: StationState,
    evse: int | None,
    tag: str,
    remote_id: int | None,
    profile: dict[str, Any] | None = None,
) -> Reply:
    """Accepted means a session starts (1.6 5.11, 2.0.1 F01.FR.01): the EVSE is taken at once,
    so a second request before the session begins cannot be accepted for it too. A profile in
    the request installs as the session's TxProfile; one the station refuses refuses the start."""
    chosen = s.free_evse(evse)
    if chosen is None:
        return _status("Rejected")
    if profile is not None and not profile_answers.install_start_profile(s, profile, chosen):
        return _status("Rejected")
    s.sessions[chosen] = RESERVED
    return _status("Accepted", StartSession(chosen, tag, remote_id))


def _stop_or_reject(s: StationState, ref: str) -> Reply:
    if s.evse_of(ref) is None:
        return _status("Rejected")
    return _status("Accepted", StopSession(ref, "Remote"))


def _availability(s: StationState, evse: int, operative: bool) -> Reply:
    if evse > s.evses or evse < 0:
        return _status("Rejected")
    busy = evse in s.sessions or (evse == 0 and bool(s.sessions))
    s.operative[evse] = operative
    return _status(
        "Scheduled" if busy and not operative else "Accepted", SetAvailability(evse, operative)
    )


# -- OCPP 1.6 ----------------------------------------------------------------------------------


def _v16_get_configuration(p: dict[str, Any], s: StationState) -> Reply:
    keys = p.get("key") or [k for k, v in s.settings.items() if not v.write_only]
    known = [
        {"key": k, "readonly": s.settings[k].readonly, "value": s.settings[k].value}
        for k in keys
        if k in s.settings and not s.settings[k].write_only
    ]
    unknown = [k for k in keys if k not in s.settings or s.settings[k].write_only]
    reply: dict[str, Any] = {"configurationKey": known}
    if unknown:
        reply["unknownKey"] = unknown
    return reply, None


def _v16_change_configuration(p: dict[str, Any], s: StationState) -> Reply:
    setting = s.settings.get(p["key"])
    if setting is None:
        return _status("NotSupported")
    if setting.readonly:
        return _status("Rejected")
    if p["key"].endswith("Interval") and not p["value"].isdigit():
        return _status("Rejected")
    setting.value = p["value"]
    return _status("RebootRequired" if p["key"] == "SecurityProfile" else "Accepted")


_V16_TRIGGERS = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
}


def _v16_trigger(p: dict[str, Any], s: StationState) -> Reply:
    connector = p.get("connectorId")
    if connector is not None and not 0 < connector <= s.evses:
        return _status("Rejected")
    return _status("Accepted", SendMessage(p["requestedMessage"], connector))


_V16_EXTENDED_TRIGGERS = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "FirmwareStatusNotification",
    "LogStatusNotification",
}


def _v16_extended_trigger(p: dict[str, Any], s: StationState) -> Reply:
    """ExtendedTriggerMessage (Security Whitepaper 4.8); the simulator makes no CSRs."""
    connector = p.get("connectorId")
    message = p["requestedMessage"]
    if message not in _V16_EXTENDED_TRIGGERS:  # SignChargePointCertificate: no key to sign
        return _status("Rejected")
    if connector is not None and not 0 < connector <= s.evses:
        return _status("Rejected")
    return _status("Accepted", SendMessage(message, connector, extended=True))


def _v16_unlock(p: dict[str, Any], s: StationState) -> Reply:
    evse = p["connectorId"]
    if not 0 < evse <= s.evses:
        return _status("NotSupported")
    ref = s.sessions.get(evse)
    return _status("Unlocked", StopSession(ref, "UnlockCommand") if ref else None)


_BOTH_VERSIONS: dict[str, Handler] = {
    "DataTransfer": _data_transfer,
    "ClearCache": lambda _p, _s: _status("Accepted"),
    "CertificateSigned": _certificate_signed,
}
"""What 1.6 and 2.x stations answer alike."""

V16: dict[str, Handler] = {
    **_BOTH_VERSIONS,
    "RemoteStartTransaction": lambda p, s: _start_or_reject(
        s, p.get("connectorId"), p["idTag"], None, p.get("chargingProfile")
    ),
    "RemoteStopTransaction": lambda p, s: _stop_or_reject(s, str(p["transactionId"])),
    "Reset": lambda p, _s: _status("Accepted", Reboot(p["type"] == "Hard")),
    "ChangeAvailability": lambda p, s: _availability(s, p["connectorId"], p["type"] == "Operative"),
    "UnlockConnector": _v16_unlock,
    "GetConfiguration": _v16_get_configuration,
    "ChangeConfiguration": _v16_change_configuration,
    "TriggerMessage": _v16_trigger,
    "ExtendedTriggerMessage": _v16_extended_trigger,
    "SendLocalList": lambda p, s: _status(
        _apply_local_list(
            s,
            p["listVersion"],
            p["updateType"],
            p.get("localAuthorizationList", []),
            "idTag",
            "idTagInfo",
        )
    ),
    "GetLocalListVersion": lambda _p, s: ({"listVersion": s.local_list_version}, None),
    **maintenance.V16,
    **profile_answers.V16,
}

# -- OCPP 2.0.1 --------------------------------------------------------------------------------


def _variable_key(item: dict[str, Any]) -> tuple[str, str]:
    component = item["component"]["name"]
    if "instance" in item["component"]:
        component += "/" + item["component"]["instance"]
    variable = item["variable"]["name"]
    if "instance" in item["variable"]:
        variable += "/" + item["variable"]["instance"]
    return component, f"{component}.{variable}"


def _attribute_status(item: dict[str, Any], s: StationState) -> tuple[str, Setting | None]:
    component, key = _variable_key(item)
    if item.get("attributeType", "Actual") != "Actual":
        return "NotSupportedAttributeType", None
    if key in s.settings:
        return "Accepted", s.settings[key]
    if not any(k.startswith(component + ".") for k in s.settings):
        return "UnknownComponent", None
    return "UnknownVariable", None


def _v201_get_variables(p: dict[str, Any], s: StationState) -> Reply:
    results = []
    for item in p["getVariableData"]:
        status, setting = _attribute_status(item, s)
        result = {"component": item["component"], "variable": item["variable"]}
        if setting is not None and setting.write_only:
            status = "Rejected"
        result["attributeStatus"] = status
        if status == "Accepted" and setting is not None:
            result["attributeValue"] = setting.value
        results.append(result)
    return {"getVariableResult": results}, None


def _v201_set_variables(p: dict[str, Any], s: StationState) -> Reply:
    results = []
    for item in p["setVariableData"]:
        status, setting = _attribute_status(item, s)
        if setting is not None:
            if setting.readonly:
                status = "Rejected"
            else:
                setting.value = item["attributeValue"]
                if item["variable"]["name"] == "SecurityProfile":
                    status = "RebootRequired"
        results.append(
            {
                "attributeStatus": status,
                "component": item["component"],
                "variable": item["variable"],
            }
        )
    return {"setVariableResult": results}, None


def _v201_trigger(p: dict[str, Any], s: StationState) -> Reply:
    evse = (p.get("evse") or {}).get("id")
    message = p["requestedMessage"]
    if evse is not None and not 0 < evse <= s.evses:
        return _status("Rejected")
    if message not in _V16_TRIGGERS | {"TransactionEvent", "LogStatusNotification"}:
        return _status("NotImplemented")
    if message == "TransactionEvent" and not s.sessions:
        return _status("Rejected")
    return _status("Accepted", SendMessage(message, evse))


def _v201_unlock(p: dict[str, Any], s: StationState) -> Reply:
    evse = p["evseId"]
    if not 0 < evse <= s.evses or p["connectorId"] != 1:
        return _status("UnknownConnector")
    return _status("OngoingAuthorizedTransaction" if evse in s.sessions else "Unlocked")


def _v201_reset(p: dict[str, Any], s: StationState) -> Reply:
    if p.get("evseId"):
        return _status("Rejected")
    if p["type"] == "OnIdle" and s.sessions:
        return _status("Scheduled", Reboot(immediate=False))
    return _status("Accepted", Reboot(immediate=True))


def _v201_request_start(p: dict[str, Any], s: StationState) -> Reply:
    return _start_or_reject(
        s, p.get("evseId"), p["idToken"]["idToken"], p["remoteStartId"], p.get("chargingProfile")
    )


V201: dict[str, Handler] = {
    **_BOTH_VERSIONS,
    "RequestStartTransaction": _v201_request_start,
    "RequestStopTransaction": lambda p, s: _stop_or_reject(s, p["transactionId"]),
    "Reset": _v201_reset,
    "ChangeAvailability": lambda p, s: _availability(
        s, (p.get("evse") or {}).get("id", 0), p["operationalStatus"] == "Operative"
    ),
    "UnlockConnector": _v201_unlock,
    "GetVariables": _v201_get_variables,
    "SetVariables": _v201_set_variables,
    "TriggerMessage": _v201_trigger,
    "SendLocalList": lambda p, s: _status(
        _apply_local_list(
            s,
            p["versionNumber"],
            p["updateType"],
            p.get("localAuthorizationList", []),
            "idToken",
            "idTokenInfo",
        )
    ),
    "GetLocalListVersion": lambda _p, s: ({"versionNumber": s.local_list_version}, None),
    **maintenance.V201,
    **profile_answers.V201,
}

HANDLERS = {"1.6": V16, "2.0.1": V201, "2.1": V201}  # 2.1 keeps these 2.0.1 messages


def answer(action: str, payload: dict[str, Any], state: StationState) -> Reply:
    """The station's reply to a CSMS CALL and what to do once it is sent.

    Raises:
        NotImplementedError: the simulator does not implement ``action``.
    """
    handler = HANDLERS[state.version].get(action)
    if handler is None:
        raise NotImplementedError(action)
    return handler(payload, state)
