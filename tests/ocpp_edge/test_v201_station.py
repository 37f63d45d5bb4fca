"""OCPP 2.0.1 (and 2.1) station messages become the platform's events and exact replies."""

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
    Decision,
    RegistrationStatus,
    TransactionDecision,
)
from ocpp_edge.protocol import IncomingCall, IncomingSend, StationProtocol
from tests.ocpp_edge.recorded import load, text

VECTORS = load("v201_station.json")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TX = "f2c1a7e0-5b1d-4c1e-9a57-3b2d7f0e2a11"
TOKEN = ev.IdToken("04E91C5A2B6F80", ev.IdTokenType.ISO14443)
ACCEPTED = AuthorizationDecision(AuthorizationStatus.ACCEPTED)


def at(text_time: str) -> datetime:
    return datetime.fromisoformat(text_time)


EXPECTED: dict[str, tuple[ev.Event, Decision]] = {
    "boot": (
        ev.StationBooted(
            "CP-2",
            vendor="Chargeline",
            model="CL-22",
            serial_number="CL22-000124",
            firmware_version="2.0.0",
            reason=ev.BootReason.POWER_UP,
            modem_iccid="8944500102198304826",
            modem_imsi="234150999999999",
        ),
        BootDecision(RegistrationStatus.ACCEPTED, 300, NOW),
    ),
    "boot_pending": (
        ev.StationBooted("CP-2", "Chargeline", "CL-22", reason=ev.BootReason.TRIGGERED),
        BootDecision(RegistrationStatus.PENDING, 60, NOW),
    ),
    "heartbeat": (ev.HeartbeatReceived("CP-2"), ClockDecision(NOW)),
    "status": (
        ev.ConnectorStatusChanged(
            "CP-2", 1, 2, ev.ConnectorStatus.OCCUPIED, timestamp=at("2024-05-01T11:59:58+00:00")
        ),
        Acknowledged(),
    ),
    "authorize": (
        ev.AuthorizationRequested("CP-2", TOKEN),
        AuthorizationDecision(
            AuthorizationStatus.ACCEPTED,
            NOW + timedelta(days=1),
            ev.IdToken("FLEET-7", ev.IdTokenType.CENTRAL),
        ),
    ),
    "transaction_started": (
        ev.TransactionStarted(
            "CP-2",
            transaction_ref=TX,
            evse_id=1,
            connector_id=1,
            id_token=TOKEN,
            timestamp=at("2024-05-01T12:00:05+00:00"),
            meter_start_wh=1234567.0,
            seq_no=0,
            trigger_reason="Authorized",
            charging_state="EVConnected",
            samples=(
                ev.MeterSample(
                    at("2024-05-01T12:00:05+00:00"),
                    "Energy.Active.Import.Register",
                    1234567.0,
                    "Wh",
                    context="Transaction.Begin",
                ),
            ),
        ),
        TransactionDecision(authorization=ACCEPTED),
    ),
    "transaction_ended": (
        ev.TransactionEnded(
            "CP-2",
            transaction_ref=TX,
            evse_id=1,
            connector_id=None,
            id_token=None,
            timestamp=at("2024-05-01T13:00:00+00:00"),
            meter_stop_wh=1250000.0,
            seq_no=2,
            trigger_reason="EVCommunicationLost",
            stop_reason="EVDisconnected",
            samples=(
                ev.MeterSample(
                    at("2024-05-01T13:00:00+00:00"),
                    "Energy.Active.Import.Register",
                    1250000.0,
                    "Wh",
                    context="Transaction.End",
                ),
            ),
        ),
        TransactionDecision(),
    ),
    "transaction_started_offline": (
        ev.TransactionStarted(
            "CP-2",
            transaction_ref="off-0001",
            evse_id=2,
            connector_id=1,
            id_token=None,
            timestamp=at("2024-04-30T22:10:00+00:00"),
            seq_no=0,
            offline=True,
            trigger_reason="CablePluggedIn",
            charging_state="EVConnected",
        ),
        TransactionDecision(),
    ),
    "transaction_ended_offline": (
        ev.TransactionEnded(
            "CP-2",
            transaction_ref="off-0001",
            evse_id=None,
            connector_id=None,
            id_token=TOKEN,
            timestamp=at("2024-04-30T23:40:00+00:00"),
            seq_no=1,
            offline=True,
            trigger_reason="StopAuthorized",
            stop_reason="Local",
        ),
        TransactionDecision(authorization=ACCEPTED),
    ),
    "security_event": (
        ev.SecurityEventRaised("CP-2", "FirmwareUpdated", at("2024-05-01T11:00:00+02:00")),
        Acknowledged(),
    ),
    "sign_certificate": (
        ev.CertificateRequested(
            "CP-2",
            "-----BEGIN CERTIFICATE REQUEST-----\nMIIBFAKE\n-----END CERTIFICATE REQUEST-----\n",
            ev.CertificateSigningUse.V2G,
        ),
        CertificateSigningDecision(accepted=False),
    ),
    "firmware_status": (
        ev.FirmwareStatusChanged("CP-2", "Installing", 77, signed=True),
        Acknowledged(),
    ),
}


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_station_message_becomes_the_expected_event_and_reply(name: str, version: str) -> None:
    event, decision = EXPECTED[name]
    protocol = StationProtocol(version, "CP-2")

    received = protocol.receive(text(VECTORS[name]["call"]), now=0.0)

    assert isinstance(received, IncomingCall)
    assert received.event == event
    frame = protocol.reply(received.message_id, received.event, decision)
    assert json.loads(frame) == VECTORS[name]["reply"]


def test_transaction_updates_carry_normalised_samples() -> None:
    protocol = StationProtocol("2.0.1", "CP-2")
    stamp = at("2024-05-01T12:15:00+00:00")

    received = protocol.receive(text(VECTORS["transaction_updated"]["call"]), now=0.0)

    assert isinstance(received, IncomingCall)
    assert received.event == ev.TransactionUpdated(
        "CP-2",
        transaction_ref=TX,
        evse_id=None,
        connector_id=None,
        id_token=None,
        timestamp=stamp,
        seq_no=1,
        trigger_reason="MeterValuePeriodic",
        charging_state="Charging",
        samples=(
            ev.MeterSample(stamp, "Power.Active.Import", 7400.0, "W"),
            ev.MeterSample(stamp, "Energy.Active.Import.Register", 1236600.0, "Wh"),
            ev.MeterSample(stamp, "Current.Import", 16.1, "A", phase="L1"),
        ),
    )
    frame = protocol.reply("te-2", received.event, TransactionDecision())
    assert json.loads(frame) == VECTORS["transaction_updated"]["reply"]


def test_notify_report_reaches_the_core_as_a_generic_station_message() -> None:
    protocol = StationProtocol("2.0.1", "CP-2")
    call = VECTORS["notify_report"]["call"]

    received = protocol.receive(text(call), now=0.0)

    assert isinstance(received, IncomingCall)
    assert received.event == ev.StationMessage("CP-2", "NotifyReport", call[3])
    frame = protocol.reply("nr-1", received.event, Acknowledged())
    assert json.loads(frame) == VECTORS["notify_report"]["reply"]


def test_a_v21_send_is_an_event_without_answer() -> None:
    protocol = StationProtocol("2.1", "CP-3")
    payload = {
        "id": 1,
        "pending": 0,
        "basetime": "2024-05-01T12:00:00Z",
        "data": [{"t": 0.5, "v": "7.2"}],
    }

    received = protocol.receive(text([6, "s-1", "NotifyPeriodicEventStream", payload]), now=0.0)

    assert received == IncomingSend(
        "s-1",
        "NotifyPeriodicEventStream",
        ev.StationMessage("CP-3", "NotifyPeriodicEventStream", payload),
    )


def test_an_invalid_v21_send_is_ignored_not_answered() -> None:
    protocol = StationProtocol("2.1", "CP-3")

    received = protocol.receive('[6,"s-2","NotifyPeriodicEventStream",{}]', now=0.0)

    assert type(received).__name__ == "Ignored"
