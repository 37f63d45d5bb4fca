"""Engine commands as station commands, the root check, and what the edge captures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from charging.commands import SignedUpdateFirmware, UpdateFirmware
from charging.events import (
    ConnectorStatus,
    ConnectorStatusChanged,
    FirmwareStatusChanged,
    HeartbeatReceived,
    StationBooted,
    TransactionEnded,
)
from firmware.report_capture import report_for
from firmware.service import dispatch
from firmware.tables import FirmwareImageRow
from tests.e2e.firmware_fleet import FakeDownloads

AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def self_signed(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Vendor Root")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x0ABCDEF)
        .not_valid_before(AT)
        .not_valid_after(AT + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM).decode()


def image(signed: bool = True) -> FirmwareImageRow:
    return FirmwareImageRow(
        id=7,
        family_id=1,
        version="2.0.0",
        filename="fw.bin",
        size=10,
        sha256="a" * 64,
        md5="b" * 32,
        storage_key="k",
        signature="c2ln" if signed else None,
        signing_certificate="-----BEGIN CERTIFICATE-----" if signed else None,
    )


def test_a_signed_update_carries_the_image_signature_and_a_url_valid_through_every_retry() -> None:
    downloads = FakeDownloads()
    command = dispatch.update_command(
        image(),
        locations=downloads,
        station_id="CP-1",
        target_id=3,
        request_id=41,
        signed=True,
        retrieve_at=AT,
        retries=3,
        retry_interval=timedelta(minutes=5),
    )
    assert isinstance(command, SignedUpdateFirmware)
    assert (command.request_id, command.signature, command.retries, command.retry_interval_s) == (
        41,
        "c2ln",
        3,
        300,
    )
    assert command.location.startswith("https://127.0.0.1/fw/7")
    station, target, valid_from, valid_until = downloads.issued[0]
    assert (station, target, valid_from) == ("CP-1", 3, AT)
    assert valid_until == AT + timedelta(minutes=15) + dispatch.DOWNLOAD_MARGIN


def test_a_plain_update_only_where_asked_and_never_a_signed_one_without_a_signature() -> None:
    plain = dispatch.update_command(
        image(signed=False),
        locations=FakeDownloads(),
        station_id="CP-1",
        target_id=None,
        request_id=5,
        signed=False,
        retrieve_at=AT,
        retries=0,
        retry_interval=timedelta(0),
    )
    assert isinstance(plain, UpdateFirmware) and plain.request_id == 5
    with pytest.raises(dispatch.UnsignedImage):
        dispatch.update_command(
            image(signed=False),
            locations=FakeDownloads(),
            station_id="CP-1",
            target_id=None,
            request_id=5,
            signed=True,
            retrieve_at=AT,
            retries=0,
            retry_interval=timedelta(0),
        )


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_the_root_hash_data_names_the_certificate_as_ocpp_asks(kind: str) -> None:
    import hashlib

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if kind == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    pem = self_signed(key)
    cert = x509.load_pem_x509_certificate(pem.encode())
    raw = (
        cert.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        if kind == "ec"
        else cert.public_key().public_bytes(Encoding.DER, PublicFormat.PKCS1)
    )
    data = dispatch.hash_data(pem)
    assert data["issuerKeyHash"] == hashlib.sha256(raw).hexdigest()
    assert data["issuerNameHash"] == hashlib.sha256(cert.issuer.public_bytes()).hexdigest()
    assert data["serialNumber"] == format(cert.serial_number, "x")
    listed_16 = {
        "status": "Accepted",
        "certificateHashData": [{**data, "serialNumber": "00" + data["serialNumber"].upper()}],
    }
    listed_201 = {
        "status": "Accepted",
        "certificateHashDataChain": [
            {"certificateType": "ManufacturerRootCertificate", "certificateHashData": data}
        ],
    }
    assert dispatch.holds_root(dispatch.installed_hashes(listed_16), data)
    assert dispatch.holds_root(dispatch.installed_hashes(listed_201), data)
    assert not dispatch.holds_root(dispatch.installed_hashes({"status": "NotFound"}), data)
    other = {**data, "issuerKeyHash": "0" * 64}
    assert not dispatch.holds_root([other], data)


def test_the_edge_keeps_firmware_boot_fault_and_session_reports_only() -> None:
    status = report_for(FirmwareStatusChanged("CP", "Installed", 9, signed=True), now=AT)
    assert status is not None and (
        status.kind,
        status.status,
        status.request_id,
        status.signed,
    ) == (
        "status",
        "Installed",
        9,
        True,
    )
    boot = report_for(StationBooted("CP", "ACME", "W", firmware_version="2.0.0"), now=AT)
    assert boot is not None and (boot.kind, boot.status) == ("boot", "2.0.0")
    fault = report_for(
        ConnectorStatusChanged("CP", 1, 1, ConnectorStatus.FAULTED, error_code="GroundFailure"),
        now=AT,
    )
    assert fault is not None and (fault.kind, fault.detail) == ("fault", "GroundFailure")
    assert report_for(ConnectorStatusChanged("CP", 1, 1, ConnectorStatus.AVAILABLE), now=AT) is None
    ended = report_for(
        TransactionEnded("CP", "T", 1, 1, None, AT, stop_reason="EmergencyStop"), now=AT
    )
    assert ended is not None and ended.failed
    normal = report_for(
        TransactionEnded("CP", "T", 1, 1, None, AT, stop_reason="EVDisconnected"), now=AT
    )
    assert normal is not None and not normal.failed
    assert report_for(HeartbeatReceived("CP"), now=AT) is None
    long = report_for(FirmwareStatusChanged("CP", "X" * 500), now=AT)
    assert long is not None and long.status == "X" * 50


def test_a_signed_update_is_probed_with_extended_trigger_message_on_1_6() -> None:
    from ocpp_edge.adapters import v16_commands, v201_commands

    signed, plain = dispatch.probe_command(signed=True), dispatch.probe_command(signed=False)
    # MessageTriggerEnumType of the whitepaper names FirmwareStatusNotification; the station
    # answers it with SignedFirmwareStatusNotification.
    assert v16_commands.to_call(signed) == (
        "ExtendedTriggerMessage",
        {"requestedMessage": "FirmwareStatusNotification"},
    )
    assert v16_commands.to_call(plain) == (
        "TriggerMessage",
        {"requestedMessage": "FirmwareStatusNotification"},
    )
    assert v201_commands.to_call(signed) == v201_commands.to_call(plain)
