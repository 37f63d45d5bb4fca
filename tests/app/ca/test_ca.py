"""The CA service over a real database: hierarchy, key sealing, issuance, refusals, revocation."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.ca import AlreadyRevoked, CertificateAuthority, UnknownCertificate
from app.ca.keys import normalise_serial, serial_to_hex
from app.ca.tables import CAMaterial, IssuedCertificateRow
from app.platform import Platform
from pki import (
    CARole,
    CertificateRevoked,
    ChainInvalid,
    CsrRejected,
    IssuanceRefused,
    KeyKind,
    KeyProtectionError,
    RevocationReason,
    generate_private_key,
    load_certificates,
    stations_of_user_certificate,
)
from tests.audit_trail import refusals
from tests.factories import TEST_ACTOR
from tests.pki.builders import csr_pem, make_csr, station_csr
from tests.pki.conftest import build_test_ca

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ca(platform: Platform) -> CertificateAuthority:
    assert platform.ca.initialize(now=NOW)
    return platform.ca


@pytest.fixture
def session(platform: Platform) -> Iterator[Session]:
    with Session(platform.engine, expire_on_commit=False) as session:
        yield session


def issue(ca: CertificateAuthority, session: Session, station_id: str = "CP-1") -> str:
    issued = ca.issue_station_certificate(
        session, station_csr(station_id), station_id=station_id, actor=TEST_ACTOR, now=NOW
    )
    session.commit()
    return issued.serial_hex


def der_of(ca: CertificateAuthority, session: Session, serial: str) -> bytes:
    row = ca.find(session, serial)
    assert row is not None
    return load_certificates(row.certificate_pem)[0].public_bytes(serialization.Encoding.DER)


def test_initialising_twice_keeps_one_hierarchy(
    platform: Platform, ca: CertificateAuthority
) -> None:
    again = CertificateAuthority(platform.settings, platform.engine)
    assert again.initialize(now=NOW) is False
    assert again.root_pem() == ca.root_pem()
    with Session(platform.engine) as session:
        roles = sorted(row.role for row in session.exec(select(CAMaterial)).all())
    assert roles == sorted(role.value for role in CARole)


def test_concurrent_initialisers_create_a_single_hierarchy(platform: Platform) -> None:
    authorities = [CertificateAuthority(platform.settings, platform.engine) for _ in range(4)]
    barrier = threading.Barrier(len(authorities))
    created: list[bool] = []

    def run(authority: CertificateAuthority) -> None:
        barrier.wait()
        created.append(authority.initialize(now=NOW))

    threads = [threading.Thread(target=run, args=(a,)) for a in authorities]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert created.count(True) == 1
    assert len({a.root_pem() for a in authorities}) == 1


def test_ca_keys_are_stored_sealed_and_the_kek_file_is_private(
    platform: Platform, ca: CertificateAuthority
) -> None:
    kek = platform.settings.resolved_ca_dir / "kek"
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    plain = ca.authority(CARole.STATION).private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with Session(platform.engine) as session:
        blobs = [row.sealed_key for row in session.exec(select(CAMaterial)).all()]
    assert all(blob.startswith(b"CLK\x01") for blob in blobs)
    assert not any(plain[-32:] in blob for blob in blobs)


def test_a_wrong_kek_cannot_open_the_stored_keys(
    platform: Platform, ca: CertificateAuthority
) -> None:
    (platform.settings.resolved_ca_dir / "kek").write_bytes(b"\x00" * 32)
    other = CertificateAuthority(platform.settings, platform.engine)
    with pytest.raises(KeyProtectionError, match="CA keys do not open with this KEK"):
        other.root_pem()


def test_kms_envelope_encryption_seals_the_keys_when_a_kms_key_is_set(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        key_id = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["KeyId"]
        settings = platform.settings.model_copy(
            update={"kms_key_id": key_id, "aws_region": "eu-west-1"}
        )
        ca = CertificateAuthority(settings, platform.engine)
        assert ca.initialize(now=NOW)
        with Session(platform.engine) as session:
            blob = session.exec(select(CAMaterial)).first()
        assert blob is not None and blob.sealed_key.startswith(b"CLK\x02")
        assert CertificateAuthority(settings, platform.engine).root_pem() == ca.root_pem()
    assert not (settings.resolved_ca_dir / "kek").exists()


def test_a_station_certificate_names_the_station_and_carries_revocation_urls(
    platform: Platform, ca: CertificateAuthority, session: Session
) -> None:
    issued = ca.issue_station_certificate(
        session, station_csr("CP-1"), station_id="CP-1", actor=TEST_ACTOR, now=NOW
    )
    session.commit()
    leaf, intermediate = load_certificates(issued.chain_pem)
    assert leaf.subject.rfc4514_string() == "CN=CP-1,O=Chargeline"
    assert intermediate == ca.authority(CARole.STATION).certificate
    cdp = leaf.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert cdp[0].full_name == [
        x509.UniformResourceIdentifier(f"{platform.settings.api_url}/pki/crl/station.crl")
    ]
    aia = leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    assert aia[0].access_location.value == f"{platform.settings.api_url}/pki/ocsp"
    assert issued.serial_hex == serial_to_hex(leaf.serial_number)
    assert issued.root_pem == ca.root_pem()
    row = ca.find(session, issued.serial_hex.lower())
    assert row is not None and (row.station_id, row.status, row.profile) == (
        "CP-1",
        "issued",
        "station",
    )
    assert refusals(platform, "pki.certificate_issued")[0]["station_id"] == "CP-1"


@pytest.mark.parametrize(
    ("csr", "reason"),
    [
        (lambda: station_csr("CP-2"), "subject CN 'CP-2' does not name station 'CP-1'"),
        (lambda: "-----BEGIN CERTIFICATE REQUEST-----\n!!\n", "malformed PEM"),
        (
            lambda: csr_pem(make_csr(generate_private_key(KeyKind.RSA_2048), "CP-1")).replace(
                "A", "B", 3
            ),
            "",
        ),
        (
            lambda: csr_pem(
                make_csr(
                    generate_private_key(),
                    "CP-1",
                    extensions=(x509.BasicConstraints(ca=True, path_length=None),),
                )
            ),
            "CA:true requested",
        ),
    ],
    ids=["other-station", "malformed", "tampered", "ca-true"],
)
def test_bad_csrs_are_refused_audited_and_nothing_is_issued(
    platform: Platform, ca: CertificateAuthority, session: Session, csr: object, reason: str
) -> None:
    with pytest.raises(CsrRejected) as refused:
        ca.issue_station_certificate(
            session,
            csr(),  # type: ignore[operator]
            station_id="CP-1",
            actor=TEST_ACTOR,
            now=NOW,
        )
    session.rollback()
    assert reason in refused.value.reason
    assert session.exec(select(IssuedCertificateRow)).all() == []
    audited = refusals(platform, "pki.certificate_refused")
    assert audited == [{"reason": refused.value.reason, "outcome": "failure"}]


def test_a_weak_rsa_key_is_refused_with_its_size(
    ca: CertificateAuthority, session: Session
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CsrRejected, match="key too weak: RSA 1024 bits, at least 2048 required"):
        ca.issue_station_certificate(
            session, csr_pem(make_csr(weak, "CP-1")), station_id="CP-1", actor=TEST_ACTOR, now=NOW
        )


def test_a_user_certificate_is_bound_to_its_stations_and_short_lived(
    ca: CertificateAuthority, session: Session
) -> None:
    issued = ca.issue_user_certificate(
        session,
        station_csr("anything"),
        user_id="user-7",
        station_ids=["CP-1", "CP-2"],
        validity=timedelta(hours=2),
        actor=TEST_ACTOR,
        now=NOW,
    )
    leaf = load_certificates(issued.chain_pem)[0]
    assert stations_of_user_certificate(leaf) == {"CP-1", "CP-2"}
    assert issued.not_after == NOW + timedelta(hours=2)
    with pytest.raises(IssuanceRefused, match="validity must be more than 0 and at most 7 days"):
        ca.issue_user_certificate(
            session,
            station_csr("x"),
            user_id="user-7",
            station_ids=["CP-1"],
            validity=timedelta(days=30),
            actor=TEST_ACTOR,
            now=NOW,
        )


def test_revocation_is_seen_at_once_here_and_within_the_ttl_elsewhere(
    platform: Platform, ca: CertificateAuthority, session: Session
) -> None:
    serial = issue(ca, session)
    other = CertificateAuthority(platform.settings, platform.engine)
    assert other.is_revoked(int(serial, 16)) is False
    ca.revoke(session, serial, RevocationReason.KEY_COMPROMISE, actor=TEST_ACTOR, now=NOW)
    session.commit()
    assert ca.is_revoked(int(serial, 16))
    other.ledger.ttl = 0.0
    assert other.is_revoked(int(serial, 16))
    with pytest.raises(AlreadyRevoked):
        ca.revoke(session, serial, RevocationReason.UNSPECIFIED, actor=TEST_ACTOR, now=NOW)
    with pytest.raises(UnknownCertificate):
        ca.revoke(session, "01", RevocationReason.UNSPECIFIED, actor=TEST_ACTOR, now=NOW)
    with pytest.raises(ValueError, match="not a hexadecimal serial number"):
        ca.revoke(session, "xyz", RevocationReason.UNSPECIFIED, actor=TEST_ACTOR, now=NOW)


def test_the_gatekeeper_check_accepts_the_station_own_certificate(
    ca: CertificateAuthority, session: Session
) -> None:
    serial = issue(ca, session, "CP-1")
    ca.check_station_certificate(der_of(ca, session, serial), station_id="CP-1", now=NOW)


def test_the_gatekeeper_check_refuses_bad_client_certificates_and_audits_them(
    platform: Platform, ca: CertificateAuthority, session: Session
) -> None:
    serial_a = issue(ca, session, "CP-A")
    der_a = der_of(ca, session, serial_a)
    foreign = build_test_ca(now=NOW - timedelta(days=1))
    from pki import STATION, check_csr, issue_certificate, load_csr

    checked = check_csr(
        load_csr(station_csr("CP-A")),
        profile=STATION,
        expected_common_name="CP-A",
        expected_organization=None,
    )
    foreign_der = issue_certificate(
        checked, issuer=foreign.station, serial=77, now=NOW
    ).public_bytes(serialization.Encoding.DER)
    cases: list[tuple[bytes, str, datetime, str]] = [
        (der_a, "CP-B", NOW, "subject CN 'CP-A' does not name station 'CP-B'"),
        (b"\x30\x03junk", "CP-A", NOW, "malformed DER certificate"),
        (der_a, "CP-A", NOW + timedelta(days=3 * 365), "expired"),
        (der_a, "CP-A", NOW - timedelta(days=1), "not yet valid"),
        (foreign_der, "CP-A", NOW, "unknown issuer"),
    ]
    for der, station_id, when, reason in cases:
        with pytest.raises(ChainInvalid) as refused:
            ca.check_station_certificate(der, station_id=station_id, now=when)
        assert reason in refused.value.reason
    ca.revoke(session, serial_a, RevocationReason.KEY_COMPROMISE, actor=TEST_ACTOR, now=NOW)
    session.commit()
    with pytest.raises(CertificateRevoked):
        ca.check_station_certificate(der_a, station_id="CP-A", now=NOW)
    audited = refusals(platform, "pki.client_certificate_refused")
    assert len(audited) == len(cases) + 1
    assert audited[-1]["reason"] == f"certificate {int(serial_a, 16):x} is revoked"


def test_a_remembered_certificate_is_still_refused_for_time_station_and_revocation(
    platform: Platform, ca: CertificateAuthority, session: Session
) -> None:
    serial = issue(ca, session, "CP-A")
    der = der_of(ca, session, serial)
    ca.check_station_certificate(der, station_id="CP-A", now=NOW)  # verified once, remembered
    cases: list[tuple[str, datetime, str]] = [
        ("CP-B", NOW, "subject CN 'CP-A' does not name station 'CP-B'"),
        ("CP-A", NOW + timedelta(days=3 * 365), "expired"),
        ("CP-A", NOW - timedelta(days=1), "not yet valid"),
    ]
    for station_id, when, reason in cases:
        with pytest.raises(ChainInvalid) as refused:
            ca.check_station_certificate(der, station_id=station_id, now=when)
        assert refused.value.reason == reason
    ca.check_station_certificate(der, station_id="CP-A", now=NOW)
    elsewhere = CertificateAuthority(platform.settings, platform.engine)  # e.g. the CLI
    with Session(platform.engine) as other:
        elsewhere.revoke(other, serial, RevocationReason.KEY_COMPROMISE, actor=TEST_ACTOR, now=NOW)
        other.commit()
    ca.ledger.ttl = 0.0  # the REVOCATION_TTL has passed
    with pytest.raises(CertificateRevoked):
        ca.check_station_certificate(der, station_id="CP-A", now=NOW)
    audited = refusals(platform, "pki.client_certificate_refused")
    assert [entry["reason"] for entry in audited] == [reason for _, _, reason in cases] + [
        f"certificate {int(serial, 16):x} is revoked"
    ]
    assert {entry["serial"] for entry in audited} == {serial}


def test_only_the_most_recently_presented_certificates_are_remembered(
    ca: CertificateAuthority, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.ca.service

    monkeypatch.setattr(app.ca.service, "VERIFIED_CLIENTS", 2)
    ders = [der_of(ca, session, issue(ca, session, f"CP-{i}")) for i in range(3)]
    for i, der in enumerate(ders):
        ca.check_station_certificate(der, station_id=f"CP-{i}", now=NOW)
    ca.check_station_certificate(ders[1], station_id="CP-1", now=NOW)
    remembered = list(ca._verified)  # least recently presented first
    assert remembered == [hashlib.sha256(ders[2]).digest(), hashlib.sha256(ders[1]).digest()]


def test_retiring_supersedes_every_other_live_certificate_of_the_station(
    ca: CertificateAuthority, session: Session
) -> None:
    old = [issue(ca, session, "CP-1") for _ in range(2)]
    new = issue(ca, session, "CP-1")
    issue(ca, session, "CP-2")
    retired = ca.retire_superseded(session, "CP-1", new, actor=TEST_ACTOR, now=NOW)
    session.commit()
    assert sorted(retired) == sorted(old)
    rows = session.exec(
        select(IssuedCertificateRow).where(IssuedCertificateRow.revocation_reason == "superseded")
    ).all()
    assert sorted(row.serial_hex for row in rows) == sorted(old)


@given(st.integers(min_value=1, max_value=2**159 - 1))
def test_serials_survive_any_hex_spelling(serial: int) -> None:
    text = serial_to_hex(serial)
    assert len(text) % 2 == 0
    spellings = [
        text,
        text.lower(),
        "0x" + text,
        ":".join(text[i : i + 2] for i in range(0, len(text), 2)),
    ]
    assert {normalise_serial(s) for s in spellings} == {text}


@given(st.text(max_size=50))
def test_serial_parsing_refuses_anything_else_with_a_value_error(text: str) -> None:
    try:
        parsed = normalise_serial(text)
    except ValueError as exc:
        assert "not a hexadecimal serial number" in str(exc)
    else:
        assert int(parsed, 16) >= 0
