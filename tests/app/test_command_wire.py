"""Every command survives the JSON wire form; malformed messages are refused by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.command_wire import (
    COMMANDS,
    WireError,
    decode_command,
    decode_result,
    encode_command,
    encode_result,
)
from charging import commands as c
from charging.events import CertificateSigningUse, IdToken, IdTokenType

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CARD = IdToken("CARD-1", IdTokenType.ISO14443)
EXAMPLES: list[c.Command] = [
    c.StartCharging(CARD, evse_id=1, remote_start_id=9),
    c.StopCharging("tx-1"),
    c.Reset(c.ResetMode.IMMEDIATE, evse_id=2),
    c.UnlockConnector(1, 2),
    c.ChangeAvailability(False, 1),
    c.GetConfiguration(("HeartbeatInterval", "MeterValueSampleInterval")),
    c.Configure("OCPPCommCtrlr.HeartbeatInterval", "60"),
    c.Trigger(c.TriggerKind.STATUS_NOTIFICATION, 1),
    c.Trigger(c.TriggerKind.FIRMWARE_STATUS_NOTIFICATION, extended=True),
    c.DataTransfer("acme", "m1", {"nested": [1, 2.5, None, "x"]}),
    c.SetChargingSchedule(
        1,
        7,
        0,
        c.ChargingProfilePurpose.TX_DEFAULT,
        c.ChargingProfileKind.ABSOLUTE,
        c.ChargingSchedule(
            "W",
            (c.SchedulePeriod(0, 11000.0, 3), c.SchedulePeriod(3600, 3700.0)),
            start=AT,
            duration_s=7200,
        ),
    ),
    c.ClearChargingSchedule(profile_id=7),
    c.UpdateFirmware("https://fw/x.bin", AT, 3, retries=2, retry_interval_s=60),
    c.SignedUpdateFirmware(4, "https://fw/y.bin", AT, "PEM", "c2ln", install_at=AT),
    c.GetLog(7, "ftp://u:p@logs/x", c.LogType.SECURITY, oldest=AT, retries=1),
    c.GetDiagnostics("https://logs/x", start=AT, stop=AT, retry_interval_s=30),
    c.InstallCertificate(c.CertificateUse.CSMS_ROOT, "PEM"),
    c.SendCertificate("CHAIN", CertificateSigningUse.CHARGING_STATION),
    c.GetInstalledCertificateIds((c.CertificateUse.CSMS_ROOT, c.CertificateUse.MO_ROOT)),
    c.DeleteCertificate(c.CertificateHashData("SHA256", "aa", "bb", "01")),
    c.TriggerCertificateSigning(),
    c.SendLocalList(
        3,
        c.UpdateType.DIFFERENTIAL,
        (
            c.LocalListEntry(CARD, "Accepted", AT, IdToken("GROUP", IdTokenType.CENTRAL)),
            c.LocalListEntry(IdToken("OLD")),
        ),
    ),
    c.GetLocalListVersion(),
    c.SetNetworkProfile(
        2,
        "wss://ocpp.example.com:9443/ocpp",
        3,
        ocpp_interface=c.OCPPInterface.WIRELESS0,
        message_timeout_s=45,
    ),
]


def test_the_examples_cover_every_command() -> None:
    assert {type(e).__name__ for e in EXAMPLES} == set(COMMANDS)


@pytest.mark.parametrize("command", EXAMPLES, ids=lambda e: type(e).__name__)
def test_a_command_round_trips(command: c.Command) -> None:
    assert decode_command(encode_command(command)) == command


def test_a_result_round_trips() -> None:
    result = c.CommandResult("Accepted", {"status": "Accepted"}, {"K": "v", "L": None})
    assert decode_result(encode_result(result)) == result


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Reset", "a command is an object"),
        ({"command": "FormatDisk", "fields": {}}, "unknown command 'FormatDisk'"),
        ({"command": "Reset", "fields": {"mode": "Sideways"}}, "'Sideways' is not a valid"),
        ({"command": "Reset", "fields": {"blast_radius": 3}}, "Reset has no field 'blast_radius'"),
        ({"command": "UnlockConnector", "fields": {"evse_id": "1"}}, "expected int, got str"),
        ({"command": "UnlockConnector", "fields": {"evse_id": True}}, "expected int, got bool"),
        (
            {"command": "UpdateFirmware", "fields": {"location": "x", "retrieve_at": 5}},
            "a datetime is an ISO 8601 string",
        ),
        ({"command": "GetConfiguration", "fields": {"keys": "K"}}, "expected a list"),
        (
            {
                "command": "SetNetworkProfile",
                "fields": {
                    "configuration_slot": 1,
                    "csms_url": "wss://h/ocpp",
                    "security_profile": 3,
                    "ocpp_interface": "Ethernet9",
                },
            },
            "'Ethernet9' is not a valid OCPPInterface",
        ),
    ],
)
def test_malformed_commands_are_refused_with_a_reason(message: object, reason: str) -> None:
    with pytest.raises(WireError, match=reason):
        decode_command(message)


def test_a_missing_required_field_is_refused() -> None:
    with pytest.raises(WireError, match="UnlockConnector: .*evse_id"):
        decode_command({"command": "UnlockConnector", "fields": {}})
