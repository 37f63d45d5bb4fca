"""OCPP 1.6 station messages become the platform's events; decisions become exact replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from charging import events as ev
from charging.outcomes import (
    Acknowledged,
    AuthorizationDecision,
    AuthorizationStatus,
    BootDecision,
    CertificateSigningDecision,
    ClockDecision,
    DataTransferDecision,
    DataTransferStatus,
    Decision,
    RegistrationStatus,
    TransactionDecision,
)
from ocpp_edge.errors import InvalidReplyError
from ocpp_edge.protocol import IncomingCall, StationProtocol
from tests.ocpp_edge.recorded import load, text

VECTORS = load("v16_station.json")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACCEPTED = AuthorizationDecision(AuthorizationStatus.ACCEPTED)
TOKEN = ev.IdToken("04E91C5A2B6F80")


def at(text_time: str) -> datetime:
    return datetime.fromisoformat(text_time)


def receive(name: str) -> tuple[StationProtocol, IncomingCall]:
    protocol = StationProtocol("1.6", "CP-1")
    received = protocol.receive(text(VECTORS[name]["call"]), now=0.0)
    assert isinstance(received, IncomingCall)
    return protocol, received


EXPECTED: dict[str, tuple[ev.Event, Decision]] = {
    "boot": (
        ev.StationBooted(
            "CP-1",
            vendor="Chargeline",
            model="CL-22",
            serial_number="CL22-000123",
            firmware_version="1.4.2",
            modem_iccid="8944500102198304826",
            modem_imsi="234150999999999",
        ),
        BootDecision(RegistrationStatus.ACCEPTED, 300, NOW),
    ),
    "heartbeat": (ev.HeartbeatReceived("CP-1"), ClockDecision(NOW)),
    "status_charging": (
        ev.ConnectorStatusChanged(
            "CP-1",
            1,
            1,
            ev.ConnectorStatus.OCCUPIED,
            timestamp=at("2024-05-01T11:59:58+00:00"),
            detail="Charging",
        ),
        Acknowledged(),
    ),
    "status_faulted": (
        ev.ConnectorStatusChanged(
            "CP-1",
            2,
            1,
            ev.ConnectorStatus.FAULTED,
            detail="Faulted",
            error_code="GroundFailure",
            info="RCD tripped",
            vendor_error_code="E42",
        ),
        Acknowledged(),
    ),
    "authorize": (
        ev.AuthorizationRequested("CP-1", TOKEN),
        AuthorizationDecision(
            AuthorizationStatus.ACCEPTED, NOW + timedelta(days=1), ev.IdToken("FLEET-7")
        ),
    ),
    "start_transaction": (
        ev.TransactionStarted(
            "CP-1",
            transaction_ref=None,
            evse_id=1,
            connector_id=1,
            id_token=TOKEN,
            timestamp=at("2024-05-01T12:00:05+00:00"),
            meter_start_wh=1234567.0,
            reservation_id=9,
        ),
        TransactionDecision(4711, ACCEPTED),
    ),
    "security_event": (
        ev.SecurityEventRaised(
            "CP-1",
            "InvalidCentralSystemCertificate",
            at("2024-05-01T11:00:00.123+00:00"),
            "chain depth exceeded",
        ),
        Acknowledged(),
    ),
    "sign_certificate": (
        ev.CertificateRequested(
            "CP-1",
            "-----BEGIN CERTIFICATE REQUEST-----\nMIIBFAKE\n-----END CERTIFICATE REQUEST-----\n",
            ev.CertificateSigningUse.CHARGING_STATION,
        ),
        CertificateSigningDecision(accepted=True),
    ),
    "signed_firmware_status": (
        ev.FirmwareStatusChanged("CP-1", "SignatureVerified", 77, signed=True),
        Acknowledged(),
    ),
    "diagnostics_status": (
        ev.LogUploadStatusChanged("CP-1", "Uploaded", diagnostics=True),
        Acknowledged(),
    ),
    "data_transfer": (
        ev.DataTransferReceived("CP-1", "com.chargeline", "Ping", '{"n":1}'),
        DataTransferDecision(DataTransferStatus.ACCEPTED, "pong"),
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_station_message_becomes_the_expected_event_and_reply(name: str) -> None:
    event, decision = EXPECTED[name]
    protocol, received = receive(name)

    assert received.event == event
    frame = protocol.reply(received.message_id, received.event, decision)
    assert json.loads(frame) == VECTORS[name]["reply"]


def test_meter_values_are_normalised_to_base_units() -> None:
    protocol, received = receive("meter_values")
    stamp = at("2024-05-01T12:15:00+00:00")

    assert received.event == ev.MeterSampled(
        "CP-1",
        1,
        1,
        (
            ev.MeterSample(
                stamp,
                "Energy.Active.Import.Register",
                1236789.0,
                "Wh",
                context="Sample.Periodic",
                location="Outlet",
            ),
            ev.MeterSample(stamp, "Power.Active.Import", 7400.0, "W"),
            ev.MeterSample(stamp, "Voltage", 231.5, "V", phase="L1-N"),
            ev.MeterSample(stamp, "Current.Import", 16.1, "A", phase="L1"),
            ev.MeterSample(stamp, "SoC", 57.0, "%", location="EV"),
            ev.MeterSample(stamp, "Energy.Active.Import.Register", 1236800.0, "Wh"),
        ),
        transaction_ref="4711",
    )
    assert (
        json.loads(protocol.reply("mv-1", received.event, Acknowledged()))
        == (VECTORS["meter_values"]["reply"])
    )


def test_stop_transaction_carries_the_integer_id_as_a_string_and_its_samples() -> None:
    protocol, received = receive("stop_transaction")
    end = at("2024-05-01T13:00:00+00:00")

    assert received.event == ev.TransactionEnded(
        "CP-1",
        transaction_ref="4711",
        evse_id=None,
        connector_id=None,
        id_token=TOKEN,
        timestamp=end,
        meter_stop_wh=1250000.0,
        stop_reason="EVDisconnected",
        samples=(
            ev.MeterSample(
                end, "Energy.Active.Import.Register", 1250000.0, "Wh", context="Transaction.End"
            ),
        ),
    )
    frame = protocol.reply("tx-2", received.event, TransactionDecision(authorization=ACCEPTED))
    assert json.loads(frame) == VECTORS["stop_transaction"]["reply"]


def test_a_v16_start_transaction_reply_needs_a_transaction_id() -> None:
    protocol, received = receive("start_transaction")

    with pytest.raises(InvalidReplyError, match="transaction id"):
        protocol.reply("tx-1", received.event, TransactionDecision(authorization=ACCEPTED))


def test_a_decision_that_does_not_answer_the_event_is_refused() -> None:
    protocol, received = receive("boot")

    with pytest.raises(InvalidReplyError, match="ClockDecision does not answer StationBooted"):
        protocol.reply("19223201", received.event, ClockDecision(NOW))


def test_authorization_statuses_unknown_to_v16_are_answered_invalid() -> None:
    protocol, received = receive("authorize")

    frame = protocol.reply(
        "au-1", received.event, AuthorizationDecision(AuthorizationStatus.NO_CREDIT)
    )

    assert json.loads(frame) == [3, "au-1", {"idTagInfo": {"status": "Invalid"}}]


def test_a_reply_breaking_the_schema_is_refused() -> None:
    protocol, received = receive("data_transfer")

    with pytest.raises(InvalidReplyError, match="data must be string"):
        protocol.reply(
            "dt-1",
            received.event,
            DataTransferDecision(DataTransferStatus.ACCEPTED, 5),  # type: ignore[arg-type]
        )
