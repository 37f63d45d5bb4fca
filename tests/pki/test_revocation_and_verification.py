"""CRLs, OCSP answers and client-certificate verification, in Python."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from pki.csr import check_csr
from pki.errors import CertificateRevoked, ChainInvalid, IssuanceRefused
from pki.issuance import issue_certificate
from pki.keys import PrivateKey
from pki.profiles import FIRMWARE_SIGNING, STATION, USER, user_subject_alt_names
from pki.revocation import (
    CertState,
    CertStatus,
    RevocationReason,
    RevokedEntry,
    answer_ocsp,
    build_crl,
    crl_to_der,
)
from pki.verification import (
    VerifiedClient,
    station_id_of,
    verify_client_certificate,
    verify_user_certificate,
)
from tests.pki.builders import make_csr
from tests.pki.conftest import NOW, ThrowawayCA

REVOKED = RevokedEntry(0x99, NOW - timedelta(hours=1), RevocationReason.KEY_COMPROMISE)


def issue(ca: ThrowawayCA, key: PrivateKey, cn: str = "SN-0001", serial: int = 0x42):
    checked = check_csr(
        make_csr(key, cn), profile=STATION, expected_common_name=None, expected_organization=None
    )
    return issue_certificate(checked, issuer=ca.station, serial=serial, now=NOW)


def test_a_crl_lists_revoked_serials_with_their_reasons(ca: ThrowawayCA) -> None:
    plain = RevokedEntry(0x77, NOW - timedelta(days=1))
    crl = build_crl(
        ca.station, [REVOKED, plain], now=NOW, next_update=NOW + timedelta(days=7), crl_number=5
    )
    assert crl.is_signature_valid(ca.station.certificate.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.station.name
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 5
    entry = crl.get_revoked_certificate_by_serial_number(0x99)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    other = crl.get_revoked_certificate_by_serial_number(0x77)
    assert other is not None and len(other.extensions) == 0
    assert x509.load_der_x509_crl(crl_to_der(crl)) == crl


def test_a_crl_must_end_after_it_begins(ca: ThrowawayCA) -> None:
    with pytest.raises(IssuanceRefused, match="^CRL nextUpdate must be after thisUpdate$"):
        build_crl(ca.station, [], now=NOW, next_update=NOW, crl_number=1)


def test_a_crl_number_is_never_negative(ca: ThrowawayCA) -> None:
    with pytest.raises(IssuanceRefused, match="^CRL number must not be negative, got -1$"):
        build_crl(ca.station, [], now=NOW, next_update=NOW + timedelta(days=1), crl_number=-1)


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None = None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        acceptable = x509.OCSPAcceptableResponses([x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.1")])
        builder = builder.add_extension(acceptable, critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def status_table(serial: int) -> CertStatus:
    if serial == REVOKED.serial_number:
        return CertStatus.revoked_by(REVOKED)
    if serial == 0x42:
        return CertStatus.good()
    return CertStatus.unknown()


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (0x42, ocsp.OCSPCertStatus.GOOD),
        (0x99, ocsp.OCSPCertStatus.REVOKED),
        (0x55, ocsp.OCSPCertStatus.UNKNOWN),
    ],
)
def test_ocsp_answers_say_good_revoked_or_unknown(
    ca: ThrowawayCA, ec_key: PrivateKey, serial: int, expected: ocsp.OCSPCertStatus
) -> None:
    cert = issue(ca, ec_key, serial=serial)
    answer = answer_ocsp(
        ocsp_request(cert, ca.station.certificate, nonce=b"n" * 16),
        issuers=[ca.user, ca.station],
        status_of=status_table,
        now=NOW,
    )
    response = ocsp.load_der_ocsp_response(answer)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is expected
    assert response.serial_number == serial
    assert response.next_update_utc == NOW + timedelta(hours=1)
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    key = ca.station.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    if expected is ocsp.OCSPCertStatus.REVOKED:
        assert response.revocation_reason is x509.ReasonFlags.key_compromise
        assert response.revocation_time_utc == REVOKED.revoked_at


def test_an_ocsp_revocation_without_reason_carries_none(ca: ThrowawayCA, ec_key: PrivateKey):
    entry = RevokedEntry(0x42, NOW - timedelta(minutes=1))
    answer = answer_ocsp(
        ocsp_request(issue(ca, ec_key), ca.station.certificate),
        issuers=[ca.station],
        status_of=lambda _serial: CertStatus.revoked_by(entry),
        now=NOW,
    )
    response = ocsp.load_der_ocsp_response(answer)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is None


@pytest.mark.parametrize("garbage", [b"", b"\x30\x00", b"not der at all"])
def test_a_malformed_ocsp_request_gets_malformed_request(ca: ThrowawayCA, garbage: bytes) -> None:
    answer = answer_ocsp(garbage, issuers=[ca.station], status_of=status_table, now=NOW)
    status = ocsp.load_der_ocsp_response(answer).response_status
    assert status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_an_ocsp_request_for_a_foreign_issuer_gets_unauthorized(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    request = ocsp_request(issue(ca, ec_key), ca.station.certificate)
    answer = answer_ocsp(request, issuers=[ca.user], status_of=status_table, now=NOW)
    status = ocsp.load_der_ocsp_response(answer).response_status
    assert status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_a_sha256_ocsp_request_is_understood(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    cert = issue(ca, ec_key)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, ca.station.certificate, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    answer = answer_ocsp(request, issuers=[ca.station], status_of=status_table, now=NOW)
    assert ocsp.load_der_ocsp_response(answer).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_an_rsa_ca_answers_ocsp_too(rsa_ca: ThrowawayCA, rsa_key: PrivateKey) -> None:
    request = ocsp_request(issue(rsa_ca, rsa_key), rsa_ca.station.certificate)
    answer = answer_ocsp(request, issuers=[rsa_ca.station], status_of=status_table, now=NOW)
    assert ocsp.load_der_ocsp_response(answer).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_a_status_and_its_revocation_entry_go_together() -> None:
    with pytest.raises(ValueError, match="revocation entry goes with"):
        CertStatus(CertState.REVOKED)
    with pytest.raises(ValueError, match="revocation entry goes with"):
        CertStatus(CertState.GOOD, REVOKED)


def never_revoked(_serial: int) -> bool:
    return False


def verify(ca: ThrowawayCA, cert: x509.Certificate, **kwargs: object) -> str:
    options: dict[str, object] = {
        "intermediates": [ca.station.certificate],
        "roots": [ca.root.certificate],
        "now": NOW + timedelta(days=1),
        "is_revoked": never_revoked,
        **kwargs,
    }
    return verify_client_certificate(cert, **options)  # type: ignore[arg-type]


def reason_of(ca: ThrowawayCA, cert: x509.Certificate, **kwargs: object) -> str:
    with pytest.raises(ChainInvalid) as caught:
        verify(ca, cert, **kwargs)
    return caught.value.reason


def test_a_good_station_certificate_verifies_and_names_its_station(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    cert = issue(ca, ec_key)
    assert verify(ca, cert, expected_station_id="SN-0001") == "SN-0001"
    assert station_id_of(cert) == "SN-0001"


def test_an_expired_certificate_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    assert reason_of(ca, issue(ca, ec_key), now=NOW + timedelta(days=731)) == "expired"


def test_a_not_yet_valid_certificate_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    assert reason_of(ca, issue(ca, ec_key), now=NOW - timedelta(hours=1)) == "not yet valid"


def test_a_certificate_for_another_station_is_refused(ca: ThrowawayCA, ec_key: PrivateKey):
    reason = reason_of(ca, issue(ca, ec_key, "B"), expected_station_id="A")
    assert reason == "subject CN 'B' does not name station 'A'"


def test_a_revoked_certificate_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    cert = issue(ca, ec_key, serial=0x99)
    with pytest.raises(CertificateRevoked) as caught:
        verify(ca, cert, is_revoked=lambda serial: serial == 0x99)
    assert caught.value.serial_number == 0x99
    assert str(caught.value) == "certificate 99 is revoked"


def test_a_user_certificate_is_not_a_station_certificate(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key), profile=USER, expected_common_name=None, expected_organization=None
    )
    cert = issue_certificate(
        checked, issuer=ca.user, serial=5, now=NOW, san=user_subject_alt_names("u", ["SN-0001"])
    )
    assert reason_of(ca, cert).startswith("unknown issuer: CN=Chargeline Test CPO User CA")


def test_a_certificate_from_a_foreign_ca_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    from tests.pki.conftest import build_test_ca

    foreign = build_test_ca()
    assert reason_of(ca, issue(foreign, ec_key)).startswith("unknown issuer: ")


def test_a_chain_to_an_untrusted_root_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    reason = reason_of(ca, issue(ca, ec_key), roots=[ca.manufacturer.certificate])
    assert reason.startswith("chain rejected: ")


def test_a_code_signing_certificate_has_the_wrong_eku(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key),
        profile=FIRMWARE_SIGNING,
        expected_common_name=None,
        expected_organization=None,
    )
    cert = issue_certificate(checked, issuer=ca.manufacturer, serial=5, now=NOW)
    assert reason_of(ca, cert) == "wrong EKU: clientAuth required"


def test_a_certificate_without_eku_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=SN-0001"))
        .issuer_name(ca.station.name)
        .public_key(ec_key.public_key())
        .serial_number(8)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=2))
        .sign(ca.station.private_key, hashes.SHA256())
    )
    assert reason_of(ca, cert) == "wrong EKU: none present, clientAuth required"


def test_a_station_id_needs_exactly_one_cn(ca: ThrowawayCA) -> None:
    with pytest.raises(ChainInvalid, match="^subject must have exactly one CN, found 0$"):
        station_id_of(_no_cn_cert(ca))


def _no_cn_cert(ca: ThrowawayCA) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("O=Nobody"))
        .issuer_name(ca.station.name)
        .public_key(ca.station.private_key.public_key())
        .serial_number(8)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=2))
        .sign(ca.station.private_key, hashes.SHA256())
    )


def test_a_user_certificate_verifies_for_its_stations_only(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key, "guest"),
        profile=USER,
        expected_common_name=None,
        expected_organization=None,
    )
    cert = issue_certificate(
        checked, issuer=ca.user, serial=6, now=NOW, san=user_subject_alt_names("u", ["SN-1"])
    )
    options: dict[str, object] = {
        "intermediates": [ca.user.certificate],
        "roots": [ca.root.certificate],
        "now": NOW + timedelta(hours=1),
        "is_revoked": never_revoked,
    }
    verify_user_certificate(cert, station_id="SN-1", **options)  # type: ignore[arg-type]
    with pytest.raises(ChainInvalid, match="^user certificate is not bound to station 'SN-2'$"):
        verify_user_certificate(cert, station_id="SN-2", **options)  # type: ignore[arg-type]


def test_a_verified_client_rechecks_time_station_and_revocation_with_the_same_errors(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    cert = issue(ca, ec_key)
    verify_client_certificate(
        cert,
        intermediates=[ca.station.certificate],
        roots=[ca.root.certificate],
        now=NOW,
        is_revoked=lambda _serial: False,
    )
    verified = VerifiedClient.of(cert)
    assert verified == VerifiedClient(
        "SN-0001", 0x42, cert.not_valid_before_utc, cert.not_valid_after_utc
    )
    assert verified.recheck(now=NOW, is_revoked=lambda _s: False) == "SN-0001"
    assert (
        verified.recheck(now=NOW, is_revoked=lambda _s: False, expected_station_id="SN-0001")
        == "SN-0001"
    )
    refusals: list[tuple[dict[str, object], str]] = [
        ({"now": NOW + STATION.validity + timedelta(seconds=1)}, "expired"),
        ({"now": NOW - timedelta(days=1)}, "not yet valid"),
        (
            {"now": NOW, "expected_station_id": "SN-0002"},
            "subject CN 'SN-0001' does not name station 'SN-0002'",
        ),
    ]
    for arguments, reason in refusals:
        with pytest.raises(ChainInvalid) as refused:
            verified.recheck(is_revoked=lambda _s: False, **arguments)  # type: ignore[arg-type]
        assert refused.value.reason == reason
    with pytest.raises(CertificateRevoked, match="^certificate 42 is revoked$"):
        verified.recheck(now=NOW, is_revoked=lambda serial: serial == 0x42)
