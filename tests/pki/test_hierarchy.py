"""The operator and manufacturer hierarchies, and the PEM helpers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from pki.errors import ChainInvalid, IssuanceRefused
from pki.hierarchy import (
    INTERMEDIATE_VALIDITY,
    ROOT_VALIDITY,
    CARole,
    IssuingCA,
    authority_key_identifier,
    certificate_to_pem,
    create_intermediate,
    create_operator_root,
    load_certificate,
    load_certificates,
)
from pki.keys import generate_private_key, signature_hash
from tests.pki.builders import OPERATOR
from tests.pki.conftest import NOW, ThrowawayCA


def constraints(ca: IssuingCA) -> x509.BasicConstraints:
    return ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value


def test_the_operator_root_is_self_signed_with_path_length_one(ca: ThrowawayCA) -> None:
    cert = ca.root.certificate
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == f"CN={OPERATOR} Root CA,O={OPERATOR},C=DE"
    assert constraints(ca.root) == x509.BasicConstraints(ca=True, path_length=1)
    assert cert.not_valid_after_utc == NOW + ROOT_VALIDITY
    cert.verify_directly_issued_by(cert)


@pytest.mark.parametrize("role", [CARole.STATION, CARole.USER, CARole.SERVER])
def test_each_intermediate_sits_under_the_root_with_path_length_zero(
    ca: ThrowawayCA, role: CARole
) -> None:
    intermediate = {CARole.STATION: ca.station, CARole.USER: ca.user, CARole.SERVER: ca.server}[
        role
    ]
    assert intermediate.role is role
    assert constraints(intermediate) == x509.BasicConstraints(ca=True, path_length=0)
    assert intermediate.certificate.not_valid_after_utc == NOW + INTERMEDIATE_VALIDITY
    intermediate.certificate.verify_directly_issued_by(ca.root.certificate)
    assert intermediate.certificate.issuer == ca.root.certificate.subject


def test_ca_certificates_may_sign_certificates_crls_and_ocsp_answers(ca: ThrowawayCA) -> None:
    extension = ca.station.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    usage = extension.value
    assert extension.critical
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert not usage.key_encipherment


def test_intermediates_point_at_the_root_crl(ca: ThrowawayCA) -> None:
    points = ca.user.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    assert points.value[0].full_name == [x509.UniformResourceIdentifier("http://pki.test/root.crl")]


def test_the_manufacturer_root_signs_leaves_directly(ca: ThrowawayCA) -> None:
    assert constraints(ca.manufacturer) == x509.BasicConstraints(ca=True, path_length=0)
    assert ca.manufacturer.role is CARole.MANUFACTURER_ROOT


def test_an_intermediate_without_country_stays_without(ec_root_without_country: IssuingCA) -> None:
    station = create_intermediate(
        ec_root_without_country, role=CARole.STATION, key=generate_private_key(), serial=2, now=NOW
    )
    assert station.name.rfc4514_string() == "CN=Solo Station CA,O=Solo"


@pytest.fixture(scope="module")
def ec_root_without_country() -> IssuingCA:
    return create_operator_root(operator_name="Solo", key=generate_private_key(), serial=1, now=NOW)


def test_an_intermediate_never_outlives_the_root(ec_root_without_country: IssuingCA) -> None:
    late = NOW + ROOT_VALIDITY - timedelta(days=1)
    station = create_intermediate(
        ec_root_without_country, role=CARole.USER, key=generate_private_key(), serial=3, now=late
    )
    assert station.certificate.not_valid_after_utc == NOW + ROOT_VALIDITY


def test_only_the_operator_root_issues_intermediates(ca: ThrowawayCA) -> None:
    with pytest.raises(IssuanceRefused) as caught:
        create_intermediate(
            ca.manufacturer, role=CARole.STATION, key=generate_private_key(), serial=9, now=NOW
        )
    assert caught.value.reason == (
        "intermediates are issued by the operator root, not manufacturer-root"
    )


def test_a_root_role_is_not_an_intermediate_role(ca: ThrowawayCA) -> None:
    with pytest.raises(IssuanceRefused, match="^no intermediate of role operator-root$"):
        create_intermediate(
            ca.root, role=CARole.OPERATOR_ROOT, key=generate_private_key(), serial=9, now=NOW
        )


def test_a_ca_whose_key_does_not_match_its_certificate_cannot_exist(ca: ThrowawayCA) -> None:
    with pytest.raises(IssuanceRefused, match="^station CA: private key does not match"):
        IssuingCA(CARole.STATION, ca.station.certificate, ca.user.private_key)


def test_a_root_serial_must_be_positive() -> None:
    with pytest.raises(IssuanceRefused, match="^serial number out of range"):
        create_operator_root(operator_name="X", key=generate_private_key(), serial=0, now=NOW)


def test_certificates_round_trip_through_pem(ca: ThrowawayCA) -> None:
    pem = certificate_to_pem(ca.root.certificate)
    assert load_certificate(pem) == ca.root.certificate
    assert load_certificate(pem.encode()) == ca.root.certificate
    bundle = pem + certificate_to_pem(ca.station.certificate)
    assert load_certificates(bundle) == [ca.root.certificate, ca.station.certificate]


def test_a_bundle_is_not_one_certificate(ca: ThrowawayCA) -> None:
    pem = certificate_to_pem(ca.root.certificate) * 2
    with pytest.raises(ChainInvalid, match="^malformed PEM: expected one certificate, found 2$"):
        load_certificate(pem)


@pytest.mark.parametrize("text", ["", "junk", "-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_text_that_is_no_certificate_is_malformed(text: str) -> None:
    with pytest.raises(ChainInvalid, match="^malformed PEM certificate: "):
        load_certificates(text)


def test_a_ca_certificate_without_ski_gives_its_leaves_the_key_hash_as_aki() -> None:
    key = generate_private_key()
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Bare CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, signature_hash(key))
    )
    bare = IssuingCA(CARole.STATION, cert, key)
    expected = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    assert authority_key_identifier(bare).key_identifier == expected


def test_a_ca_reads_its_name_validity_and_key_identifier_from_its_certificate(
    ca: ThrowawayCA,
) -> None:
    cert = ca.station.certificate
    assert ca.station.name == cert.subject
    assert (ca.station.not_before, ca.station.not_after) == (
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ca.station.key_identifier.key_identifier == ski.digest
