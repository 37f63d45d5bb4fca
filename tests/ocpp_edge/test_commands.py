"""Commands become schema-valid calls; answers, errors and timeouts come back as results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count

import pytest

from charging import commands as cmd
from charging.events import CertificateSigningUse, IdToken, IdTokenType
from ocpp_edge.errors import BusyError, UnsupportedError
from ocpp_edge.protocol import (
    CommandAnswered,
    CommandFailed,
    Ignored,
    IncomingCall,
    StationProtocol,
)

AT = datetime(2024, 5, 2, 3, 0, tzinfo=UTC)
TOKEN = IdToken("04E91C5A2B6F80", IdTokenType.ISO14443)
SCHEDULE = cmd.ChargingSchedule(
    "A", (cmd.SchedulePeriod(0, 16.0), cmd.SchedulePeriod(3600, 6.0, 1)), start=AT, duration_s=7200
)
HASH = cmd.CertificateHashData("SHA256", "a" * 64, "b" * 64, "0f1e")

EVERYWHERE: list[cmd.Command] = [
    cmd.StartCharging(TOKEN, evse_id=1, remote_start_id=5),
    cmd.StopCharging("4711"),
    cmd.Reset(cmd.ResetMode.IMMEDIATE),
    cmd.UnlockConnector(1),
    cmd.ChangeAvailability(operative=False, evse_id=2),
    cmd.ChangeAvailability(operative=True),
    cmd.Trigger(cmd.TriggerKind.STATUS_NOTIFICATION, evse_id=1),
    cmd.Trigger(cmd.TriggerKind.LOG_STATUS_NOTIFICATION),
    cmd.DataTransfer("com.chargeline", "Hello", "world"),
    cmd.SetChargingSchedule(
        1, 7, 0, cmd.ChargingProfilePurpose.TX_DEFAULT, cmd.ChargingProfileKind.ABSOLUTE, SCHEDULE
    ),
    cmd.ClearChargingSchedule(profile_id=7),
    cmd.ClearChargingSchedule(evse_id=1, purpose=cmd.ChargingProfilePurpose.TX_DEFAULT),
    cmd.UpdateFirmware("https://fw.example/cl22-1.5.0.bin", AT, retries=3, retry_interval_s=60),
    cmd.SignedUpdateFirmware(
        42, "https://fw.example/cl22-1.5.0.bin", AT, "-----BEGIN CERTIFICATE-----", "c2ln", AT
    ),
    cmd.InstallCertificate(cmd.CertificateUse.CSMS_ROOT, "-----BEGIN CERTIFICATE-----"),
    cmd.SendCertificate("-----BEGIN CERTIFICATE-----"),
    cmd.GetInstalledCertificateIds((cmd.CertificateUse.MANUFACTURER_ROOT,)),
    cmd.DeleteCertificate(HASH),
    cmd.TriggerCertificateSigning(),
    cmd.SendLocalList(
        3,
        cmd.UpdateType.DIFFERENTIAL,
        (
            cmd.LocalListEntry(TOKEN, "Accepted", AT, IdToken("FLEET-7")),
            cmd.LocalListEntry(IdToken("OLD-CARD")),
        ),
    ),
    cmd.GetLocalListVersion(),
]


def protocol(version: str) -> StationProtocol:
    ids = count(1)
    return StationProtocol(version, "CP-1", call_timeout=30.0, new_id=lambda: f"m{next(ids)}")


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
@pytest.mark.parametrize("command", EVERYWHERE, ids=lambda c: type(c).__name__)
def test_every_command_becomes_a_schema_valid_call(version: str, command: cmd.Command) -> None:
    message_id, frame = protocol(version).send(command, now=0.0)

    assert message_id == "m1"
    assert json.loads(frame)[:2] == [2, "m1"]


@pytest.mark.parametrize(
    ("version", "command", "frame"),
    [
        (
            "1.6",
            cmd.StopCharging("4711"),
            [2, "m1", "RemoteStopTransaction", {"transactionId": 4711}],
        ),
        (
            "2.0.1",
            cmd.StopCharging("4711"),
            [2, "m1", "RequestStopTransaction", {"transactionId": "4711"}],
        ),
        ("1.6", cmd.Reset(cmd.ResetMode.ON_IDLE), [2, "m1", "Reset", {"type": "Soft"}]),
        ("2.0.1", cmd.Reset(cmd.ResetMode.ON_IDLE), [2, "m1", "Reset", {"type": "OnIdle"}]),
        (
            "1.6",
            cmd.TriggerCertificateSigning(),
            [2, "m1", "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}],
        ),
        (
            "2.0.1",
            cmd.TriggerCertificateSigning(CertificateSigningUse.V2G),
            [2, "m1", "TriggerMessage", {"requestedMessage": "SignV2GCertificate"}],
        ),
        (
            "1.6",
            cmd.InstallCertificate(cmd.CertificateUse.CSMS_ROOT, "PEM"),
            [
                2,
                "m1",
                "InstallCertificate",
                {"certificateType": "CentralSystemRootCertificate", "certificate": "PEM"},
            ],
        ),
        (
            "1.6",
            cmd.Configure("HeartbeatInterval", "300"),
            [2, "m1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"}],
        ),
        (
            "2.0.1",
            cmd.Configure("SecurityCtrlr/main.BasicAuthPassword", "s3cret-s3cret-s3"),
            [
                2,
                "m1",
                "SetVariables",
                {
                    "setVariableData": [
                        {
                            "attributeValue": "s3cret-s3cret-s3",
                            "component": {"name": "SecurityCtrlr", "instance": "main"},
                            "variable": {"name": "BasicAuthPassword"},
                        }
                    ]
                },
            ],
        ),
        (
            "2.0.1",
            cmd.StartCharging(IdToken("04AA"), evse_id=1, remote_start_id=9),
            [
                2,
                "m1",
                "RequestStartTransaction",
                {"idToken": {"idToken": "04AA", "type": "Local"}, "remoteStartId": 9, "evseId": 1},
            ],
        ),
    ],
)
def test_commands_become_the_exact_call_frame(
    version: str, command: cmd.Command, frame: list[object]
) -> None:
    assert json.loads(protocol(version).send(command, now=0.0)[1]) == frame


@pytest.mark.parametrize(
    ("version", "command", "message"),
    [
        (
            "1.6",
            cmd.StopCharging("f2c1a7e0"),
            "OCPP 1.6 cannot express the non-integer transaction id 'f2c1a7e0'",
        ),
        ("1.6", cmd.Reset(evse_id=1), "OCPP 1.6 cannot express a reset of one EVSE"),
        (
            "1.6",
            cmd.InstallCertificate(cmd.CertificateUse.V2G_ROOT, "PEM"),
            "OCPP 1.6 cannot express certificate type V2GRootCertificate",
        ),
        (
            "1.6",
            cmd.GetInstalledCertificateIds(),
            "OCPP 1.6 cannot express a certificate id query for other than exactly one type",
        ),
        (
            "1.6",
            cmd.Trigger(cmd.TriggerKind.TRANSACTION_EVENT),
            "OCPP 1.6 cannot express a trigger of TransactionEvent",
        ),
        (
            "2.0.1",
            cmd.GetConfiguration(),
            "OCPP 2.0.1 cannot express reading every variable (use GetBaseReport)",
        ),
        (
            "2.0.1",
            cmd.Trigger(cmd.TriggerKind.DIAGNOSTICS_STATUS_NOTIFICATION),
            "OCPP 2.0.1 cannot express a trigger of DiagnosticsStatusNotification",
        ),
    ],
)
def test_commands_a_version_cannot_express_are_refused(
    version: str, command: cmd.Command, message: str
) -> None:
    p = protocol(version)

    with pytest.raises(UnsupportedError) as raised:
        p.send(command, now=0.0)

    assert str(raised.value) == message
    assert p.pending is None


def test_a_configuration_key_without_component_is_refused_for_v201() -> None:
    with pytest.raises(ValueError, match="is not 'Component.Variable'"):
        protocol("2.0.1").send(cmd.Configure("HeartbeatInterval", "300"), now=0.0)


def test_a_second_command_waits_for_the_first() -> None:
    p = protocol("1.6")
    p.send(cmd.GetLocalListVersion(), now=0.0)

    with pytest.raises(BusyError, match="m1"):
        p.send(cmd.GetLocalListVersion(), now=1.0)

    p.receive('[3,"m1",{"listVersion":4}]', now=2.0)
    assert p.send(cmd.GetLocalListVersion(), now=3.0)[0] == "m2"


def test_an_answer_becomes_a_normalised_result() -> None:
    p = protocol("1.6")
    command = cmd.GetConfiguration(("HeartbeatInterval", "Nope"))
    p.send(command, now=0.0)

    received = p.receive(
        '[3,"m1",{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}],'
        '"unknownKey":["Nope"]}]',
        now=1.0,
    )

    assert isinstance(received, CommandAnswered)
    assert received.command == command
    assert received.result.status == "Accepted"
    assert received.result.values == {"HeartbeatInterval": "300", "Nope": None}
    assert p.pending is None


def test_v201_variables_come_back_under_the_same_keys() -> None:
    p = protocol("2.0.1")
    p.send(cmd.GetConfiguration(("OCPPCommCtrlr.HeartbeatInterval",)), now=0.0)

    received = p.receive(
        json.dumps(
            [
                3,
                "m1",
                {
                    "getVariableResult": [
                        {
                            "attributeStatus": "Accepted",
                            "attributeValue": "300",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            ]
        ),
        now=1.0,
    )

    assert isinstance(received, CommandAnswered)
    assert received.result.values == {"OCPPCommCtrlr.HeartbeatInterval": "300"}


def test_set_variables_status_is_the_attribute_status() -> None:
    p = protocol("2.0.1")
    p.send(cmd.Configure("OCPPCommCtrlr.HeartbeatInterval", "300"), now=0.0)
    answer = {
        "setVariableResult": [
            {
                "attributeStatus": "RebootRequired",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    }

    received = p.receive(json.dumps([3, "m1", answer]), now=1.0)

    assert isinstance(received, CommandAnswered)
    assert received.result.status == "RebootRequired"


def test_a_station_callerror_fails_the_command() -> None:
    p = protocol("1.6")
    command = cmd.Reset()
    p.send(command, now=0.0)

    received = p.receive('[4,"m1","NotSupported","no reset here",{}]', now=1.0)

    assert received == CommandFailed("m1", command, "NotSupported", "no reset here")
    assert p.pending is None


def test_an_answer_breaking_the_schema_fails_the_command() -> None:
    p = protocol("2.0.1")
    command = cmd.Reset()
    p.send(command, now=0.0)

    received = p.receive('[3,"m1",{"status":"Maybe"}]', now=1.0)

    assert isinstance(received, CommandFailed)
    assert received.code == "PropertyConstraintViolation"
    assert received.frame is None


def test_v21_reports_an_invalid_answer_with_a_callresulterror() -> None:
    p = protocol("2.1")
    p.send(cmd.Reset(), now=0.0)

    received = p.receive('[3,"m1",{}]', now=1.0)

    assert isinstance(received, CommandFailed)
    assert received.frame == (
        '[5,"m1","OccurrenceConstraintViolation","Reset: payload must contain [\'status\'] '
        'properties",{}]'
    )


def test_a_malformed_answer_to_the_pending_call_fails_it_without_a_callerror() -> None:
    p = protocol("2.0.1")
    p.send(cmd.Reset(), now=0.0)

    received = p.receive('[3,"m1"]', now=1.0)

    assert isinstance(received, CommandFailed)
    assert received.code == "RpcFrameworkError"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('[3,"zz",{}]', "CALLRESULT for unknown message id 'zz'"),
        ('[4,"zz","GenericError","",{}]', "CALLERROR for unknown message id 'zz'"),
        ('[3,"zz"]', "malformed answer: CALLRESULT must have 3 elements"),
    ],
)
def test_answers_to_unknown_ids_are_ignored(frame: str, reason: str) -> None:
    p = protocol("2.0.1")
    p.send(cmd.Reset(), now=0.0)

    assert p.receive(frame, now=1.0) == Ignored(reason)
    assert p.pending == "m1"


def test_an_unanswered_call_expires_after_its_timeout() -> None:
    p = protocol("2.0.1")
    command = cmd.Reset()
    p.send(command, now=100.0)

    assert p.deadline == 130.0
    assert p.expire(129.9) == []
    assert p.expire(130.0) == [("m1", command)]
    assert p.pending is None
    assert p.receive('[3,"m1",{"status":"Accepted"}]', now=131.0) == Ignored(
        "CALLRESULT for unknown message id 'm1'"
    )


def test_station_calls_are_served_while_a_command_is_outstanding() -> None:
    p = protocol("2.0.1")
    p.send(cmd.Reset(), now=0.0)

    assert isinstance(p.receive('[2,"h","Heartbeat",{}]', now=1.0), IncomingCall)
    assert p.pending == "m1"
