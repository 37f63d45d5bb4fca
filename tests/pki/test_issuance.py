"""Issued certificates carry the fields OCPP and RFC 5280 ask for."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from pki.csr import check_csr
from pki.errors import ChainInvalid, ChainTooLong, IssuanceRefused
from pki.hierarchy import MAX_SERIAL
from pki.issuance import (
    MAX_CHAIN_CHARACTERS,
    RevocationUrls,
    chain_pem,
    issue_certificate,
    issue_server_certificate,
    new_serial_number,
)
from pki.keys import KeyKind, PrivateKey, generate_private_key
from pki.profiles import (
    FIRMWARE_SIGNING,
    STATION,
    USER,
    stations_of_user_certificate,
    user_subject_alt_names,
)
from tests.pki.builders import OPERATOR, make_csr
from tests.pki.conftest import NOW, ThrowawayCA

URLS = RevocationUrls(crl_url="http://pki.test/station.crl", ocsp_url="http://pki.test/ocsp")


def station_certificate(ca: ThrowawayCA, key: PrivateKey, **kwargs: object) -> x509.Certificate:
    checked = check_csr(
        make_csr(key), profile=STATION, expected_common_name="SN-0001", expected_organization=None
    )
    options: dict[str, object] = {"serial": 0x1234, **kwargs}
    return issue_certificate(checked, issuer=ca.station, now=NOW, **options)  # type: ignore[arg-type]


def extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)  # type: ignore[type-var]


def test_a_station_certificate_names_operator_and_serial(ca: ThrowawayCA, ec_key: PrivateKey):
    cert = station_certificate(ca, ec_key, revocation_urls=URLS)
    assert cert.subject.rfc4514_string() == f"CN=SN-0001,O={OPERATOR},C=DE"
    assert cert.issuer == ca.station.certificate.subject
    assert cert.serial_number == 0x1234


def test_a_station_certificate_is_a_signing_only_client_certificate(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    cert = station_certificate(ca, ec_key)
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert list(extension(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_a_station_certificate_links_to_its_issuer_by_key_identifiers(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    cert = station_certificate(ca, ec_key)
    ski = extension(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ec_key.public_key())
    issuer_ski = extension(ca.station.certificate, x509.SubjectKeyIdentifier).value
    assert extension(cert, x509.AuthorityKeyIdentifier).value.key_identifier == issuer_ski.digest
    cert.verify_directly_issued_by(ca.station.certificate)


def test_a_certificate_carries_its_crl_and_ocsp_urls(ca: ThrowawayCA, ec_key: PrivateKey):
    cert = station_certificate(ca, ec_key, revocation_urls=URLS)
    points = extension(cert, x509.CRLDistributionPoints).value
    assert [p.full_name for p in points] == [
        [x509.UniformResourceIdentifier("http://pki.test/station.crl")]
    ]
    access = extension(cert, x509.AuthorityInformationAccess).value
    assert [(a.access_method, a.access_location.value) for a in access] == [
        (AuthorityInformationAccessOID.OCSP, "http://pki.test/ocsp")
    ]


def test_a_certificate_without_urls_has_neither_cdp_nor_aia(ca: ThrowawayCA, ec_key: PrivateKey):
    cert = station_certificate(ca, ec_key, revocation_urls=RevocationUrls())
    oids = {e.oid for e in cert.extensions}
    assert x509.CRLDistributionPoints.oid not in oids
    assert x509.AuthorityInformationAccess.oid not in oids


def test_a_certificate_lasts_the_profile_validity(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    cert = station_certificate(ca, ec_key)
    assert cert.not_valid_after_utc == NOW + STATION.validity
    assert cert.not_valid_before_utc == NOW - timedelta(minutes=5)


def test_a_certificate_never_outlives_its_issuer(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    late = ca.station.certificate.not_valid_after_utc - timedelta(days=30)
    checked = check_csr(
        make_csr(ec_key), profile=STATION, expected_common_name=None, expected_organization=None
    )
    cert = issue_certificate(checked, issuer=ca.station, serial=7, now=late)
    assert cert.not_valid_after_utc == ca.station.certificate.not_valid_after_utc


def test_an_rsa_ca_signs_with_sha256(rsa_ca: ThrowawayCA, rsa_key: PrivateKey) -> None:
    cert = station_certificate(rsa_ca, rsa_key)
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_a_p384_ca_signs_with_sha384(ec_key: PrivateKey) -> None:
    from tests.pki.conftest import build_test_ca

    cert = station_certificate(build_test_ca(KeyKind.EC_P384), ec_key)
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha384"


def test_the_subject_can_be_given_explicitly(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "explicit")])
    assert station_certificate(ca, ec_key, subject=name).subject == name


def test_a_station_certificate_from_the_wrong_ca_is_refused(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key), profile=STATION, expected_common_name=None, expected_organization=None
    )
    with pytest.raises(IssuanceRefused) as caught:
        issue_certificate(checked, issuer=ca.user, serial=9, now=NOW)
    assert caught.value.reason == "station certificates are issued by the station CA, not user"


@pytest.mark.parametrize("serial", [0, -1, MAX_SERIAL])
def test_serial_numbers_outside_rfc_5280_are_refused(
    ca: ThrowawayCA, ec_key: PrivateKey, serial: int
) -> None:
    with pytest.raises(IssuanceRefused, match=r"^serial number out of range: must be in 1\.\."):
        station_certificate(ca, ec_key, serial=serial)


def test_a_ca_that_is_not_yet_valid_does_not_sign(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    checked = check_csr(
        make_csr(ec_key), profile=STATION, expected_common_name=None, expected_organization=None
    )
    with pytest.raises(IssuanceRefused, match="^station CA is not valid yet$"):
        issue_certificate(checked, issuer=ca.station, serial=9, now=NOW - timedelta(days=1))


def test_an_expired_ca_does_not_sign(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    checked = check_csr(
        make_csr(ec_key), profile=STATION, expected_common_name=None, expected_organization=None
    )
    with pytest.raises(IssuanceRefused, match="^station CA has expired$"):
        issue_certificate(checked, issuer=ca.station, serial=9, now=NOW + timedelta(days=4000))


def test_a_user_certificate_is_bound_to_its_stations(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key, "guest@example.com"),
        profile=USER,
        expected_common_name="guest@example.com",
        expected_organization=None,
    )
    san = user_subject_alt_names("u-42", ["SN-2", "SN 1/α", "SN-2"])
    cert = issue_certificate(checked, issuer=ca.user, serial=11, now=NOW, san=san)
    assert stations_of_user_certificate(cert) == {"SN-2", "SN 1/α"}
    uris = extension(cert, x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier
    )
    assert uris == [
        "urn:chargeline:user:u-42",
        "urn:chargeline:station:SN%201%2F%CE%B1",
        "urn:chargeline:station:SN-2",
    ]
    assert cert.not_valid_after_utc == NOW + USER.validity


def test_a_user_certificate_without_stations_is_refused(ca: ThrowawayCA, ec_key: PrivateKey):
    checked = check_csr(
        make_csr(ec_key), profile=USER, expected_common_name=None, expected_organization=None
    )
    with pytest.raises(IssuanceRefused, match="^user certificates need a subjectAltName$"):
        issue_certificate(checked, issuer=ca.user, serial=11, now=NOW)


def test_a_certificate_without_san_is_bound_to_no_station(ca: ThrowawayCA, ec_key: PrivateKey):
    assert stations_of_user_certificate(station_certificate(ca, ec_key)) == frozenset()


def test_a_firmware_signing_certificate_comes_straight_from_the_manufacturer_root(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    checked = check_csr(
        make_csr(ec_key, "Firmware 2026"),
        profile=FIRMWARE_SIGNING,
        expected_common_name=None,
        expected_organization=None,
    )
    cert = issue_certificate(checked, issuer=ca.manufacturer, serial=12, now=NOW)
    assert list(extension(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CODE_SIGNING]
    cert.verify_directly_issued_by(ca.manufacturer.certificate)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Chargeline Test Works"
    )


@pytest.mark.parametrize("kind", [KeyKind.EC_P256, KeyKind.RSA_2048])
def test_server_certificates_exist_for_ec_and_rsa_keys(ca: ThrowawayCA, kind: KeyKind) -> None:
    key = generate_private_key(kind)
    cert = issue_server_certificate(
        key.public_key(),
        issuer=ca.server,
        fqdn="ocpp.example.com",
        extra_dns_names=["ocpp.example.com", "api.example.com"],
        ip_addresses=[ipaddress.ip_address("192.0.2.7")],
        serial=13,
        now=NOW,
        revocation_urls=URLS,
    )
    assert cert.public_key() == key.public_key()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "ocpp.example.com"
    san = extension(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["ocpp.example.com", "api.example.com"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.7")]
    assert list(extension(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.not_valid_after_utc == NOW + timedelta(days=397)


def test_new_serial_numbers_are_positive_random_and_fit_20_octets() -> None:
    serials = {new_serial_number() for _ in range(200)}
    assert len(serials) == 200
    assert all(0 < s < MAX_SERIAL for s in serials)
    assert max(serials).bit_length() > 64


def test_a_chain_is_leaf_first_and_signed_link_by_link(ca: ThrowawayCA, ec_key: PrivateKey):
    cert = station_certificate(ca, ec_key, revocation_urls=URLS)
    text = chain_pem(cert, [ca.station.certificate])
    loaded = x509.load_pem_x509_certificates(text.encode())
    assert loaded == [cert, ca.station.certificate]


def test_a_chain_with_a_foreign_link_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    cert = station_certificate(ca, ec_key)
    with pytest.raises(ChainInvalid, match="^unknown issuer: CN=SN-0001"):
        chain_pem(cert, [ca.user.certificate])


def test_a_chain_over_10000_characters_is_refused(ca: ThrowawayCA, ec_key: PrivateKey) -> None:
    long_profile = replace(STATION, name="station")
    checked = check_csr(
        make_csr(ec_key),
        profile=long_profile,
        expected_common_name=None,
        expected_organization=None,
    )
    san = [x509.DNSName(f"n{i:04d}.example.com") for i in range(400)]
    cert = issue_certificate(checked, issuer=ca.station, serial=14, now=NOW, san=san)
    with pytest.raises(ChainTooLong) as caught:
        chain_pem(cert, [ca.station.certificate])
    assert caught.value.reason.startswith("too long: ")
    assert caught.value.reason.endswith(f" characters, at most {MAX_CHAIN_CHARACTERS}")


def test_a_station_certificate_carries_its_extensions_in_a_fixed_order(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    cert = station_certificate(ca, ec_key, revocation_urls=URLS)
    assert [type(e.value) for e in cert.extensions] == [
        x509.BasicConstraints,
        x509.KeyUsage,
        x509.ExtendedKeyUsage,
        x509.SubjectKeyIdentifier,
        x509.AuthorityKeyIdentifier,
        x509.CRLDistributionPoints,
        x509.AuthorityInformationAccess,
    ]
    assert [e.critical for e in cert.extensions] == [True, True, False, False, False, False, False]


def test_issuing_twice_from_the_same_request_gives_the_same_certificate_body(
    ca: ThrowawayCA, ec_key: PrivateKey
) -> None:
    first = station_certificate(ca, ec_key, revocation_urls=URLS)
    second = station_certificate(ca, ec_key, revocation_urls=URLS)
    assert first.tbs_certificate_bytes == second.tbs_certificate_bytes
    assert first.signature != second.signature  # ECDSA draws a fresh nonce every time
