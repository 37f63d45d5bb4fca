"""The two CA hierarchies and PEM helpers (DESIGN.md "PKI"; OCPP 2.0.1 Part 2 A00).

Operator (CPO) root -> ``station``, ``user`` and ``server`` intermediates -> leaves; manufacturer
root -> firmware-signing certificates directly (the spec forbids an intermediate there). CA
certificates carry basicConstraints (critical, with a path length), keyUsage keyCertSign +
cRLSign + digitalSignature (critical; the last one because each CA signs its own OCSP answers,
RFC 6960 4.2.2.2), and SKI/AKI (RFC 5280 4.2.1.1-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from pki.errors import ChainInvalid, IssuanceRefused
from pki.keys import PrivateKey, PublicKey, SignatureHash, signature_hash

ROOT_VALIDITY = timedelta(days=20 * 365)
INTERMEDIATE_VALIDITY = timedelta(days=10 * 365)
MAX_SERIAL = 2**159
"""Serial numbers are positive and at most 20 octets (RFC 5280 4.1.2.2)."""
BACKDATE = timedelta(minutes=5)
"""notBefore sits a little before ``now`` so a peer whose clock lags still accepts."""


class CARole(StrEnum):
    """What a CA of the platform signs."""

    OPERATOR_ROOT = "operator-root"
    STATION = "station"
    USER = "user"
    SERVER = "server"
    MANUFACTURER_ROOT = "manufacturer-root"


INTERMEDIATE_ROLES = (CARole.STATION, CARole.USER, CARole.SERVER)
_INTERMEDIATE_NAMES = {
    CARole.STATION: "Station CA",
    CARole.USER: "User CA",
    CARole.SERVER: "Server CA",
}


@dataclass(frozen=True, slots=True)
class IssuingCA:
    """A CA certificate with its private key. Construction checks that the two belong together.

    What every signature by this CA needs (its name, validity, AKI, signature hash) is read from
    the certificate once, here, not on every issuance.
    """

    role: CARole
    certificate: x509.Certificate
    private_key: PrivateKey
    name: x509.Name = field(init=False, repr=False, compare=False)
    """The CA's subject, the issuer of what it signs."""
    not_before: datetime = field(init=False, repr=False, compare=False)
    not_after: datetime = field(init=False, repr=False, compare=False)
    key_identifier: x509.AuthorityKeyIdentifier = field(init=False, repr=False, compare=False)
    """The AKI of what it signs: its own SKI (RFC 5280 4.2.1.1)."""
    hash_algorithm: SignatureHash = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        public_key = self.private_key.public_key()
        if self.certificate.public_key() != public_key:
            raise IssuanceRefused(f"{self.role} CA: private key does not match certificate")
        cert = self.certificate
        derived = {
            "name": cert.subject,
            "not_before": cert.not_valid_before_utc,
            "not_after": cert.not_valid_after_utc,
            "key_identifier": _key_identifier(cert, public_key),
            "hash_algorithm": signature_hash(self.private_key),
        }
        for attribute, value in derived.items():
            object.__setattr__(self, attribute, value)


def _key_identifier(cert: x509.Certificate, public_key: PublicKey) -> x509.AuthorityKeyIdentifier:
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        # RFC 5280 4.2.1.2 method (1), what SubjectKeyIdentifier.from_public_key computes.
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key)
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def check_serial(serial: int) -> None:
    """Refuse serial numbers RFC 5280 4.1.2.2 does not allow (non-positive, over 20 octets)."""
    if not 0 < serial < MAX_SERIAL:
        raise IssuanceRefused(f"serial number out of range: must be in 1..2**159-1, got {serial}")


def check_issuer_current(issuer: IssuingCA, now: datetime) -> None:
    """Refuse to sign with a CA certificate that is not valid at ``now``."""
    if now < issuer.not_before:
        raise IssuanceRefused(f"{issuer.role} CA is not valid yet")
    if now >= issuer.not_after:
        raise IssuanceRefused(f"{issuer.role} CA has expired")


def _ca_name(organization: str, common_name: str, country: str | None) -> x509.Name:
    attributes = []
    if country is not None:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ca_builder(
    subject: x509.Name, key: PrivateKey, serial: int, now: datetime, not_after: datetime, path: int
) -> x509.CertificateBuilder:
    check_serial(serial)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _self_signed(
    role: CARole, name: x509.Name, key: PrivateKey, serial: int, now: datetime, validity: timedelta
) -> IssuingCA:
    path = 1 if role is CARole.OPERATOR_ROOT else 0
    builder = _ca_builder(name, key, serial, now, now + validity, path).issuer_name(name)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
    cert = builder.add_extension(aki, critical=False).sign(key, signature_hash(key))
    return IssuingCA(role, cert, key)


def create_operator_root(
    *,
    operator_name: str,
    key: PrivateKey,
    serial: int,
    now: datetime,
    validity: timedelta = ROOT_VALIDITY,
    country: str | None = None,
) -> IssuingCA:
    """The CPO root: O = ``operator_name``, CN = "<operator> Root CA", pathLen 1."""
    name = _ca_name(operator_name, f"{operator_name} Root CA", country)
    return _self_signed(CARole.OPERATOR_ROOT, name, key, serial, now, validity)


def create_manufacturer_root(
    *,
    manufacturer_name: str,
    key: PrivateKey,
    serial: int,
    now: datetime,
    validity: timedelta = ROOT_VALIDITY,
    country: str | None = None,
) -> IssuingCA:
    """The manufacturer root, pathLen 0: it signs firmware-signing certificates directly."""
    name = _ca_name(manufacturer_name, f"{manufacturer_name} Manufacturer Root CA", country)
    return _self_signed(CARole.MANUFACTURER_ROOT, name, key, serial, now, validity)


def create_intermediate(
    root: IssuingCA,
    *,
    role: CARole,
    key: PrivateKey,
    serial: int,
    now: datetime,
    validity: timedelta = INTERMEDIATE_VALIDITY,
    crl_url: str | None = None,
) -> IssuingCA:
    """A ``station``, ``user`` or ``server`` CA under the operator root, pathLen 0.

    Its notAfter never passes the root's; ``crl_url`` is the root's CRL, if published.
    """
    if root.role is not CARole.OPERATOR_ROOT:
        raise IssuanceRefused(f"intermediates are issued by the operator root, not {root.role}")
    if role not in INTERMEDIATE_ROLES:
        raise IssuanceRefused(f"no intermediate of role {role}")
    check_issuer_current(root, now)
    organization = str(root.name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value)
    countries = root.name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    country = str(countries[0].value) if countries else None
    name = _ca_name(organization, f"{organization} {_INTERMEDIATE_NAMES[role]}", country)
    not_after = min(now + validity, root.not_after)
    builder = _ca_builder(name, key, serial, now, not_after, 0).issuer_name(root.name)
    builder = builder.add_extension(authority_key_identifier(root), critical=False)
    if crl_url is not None:
        builder = builder.add_extension(crl_distribution_points(crl_url), critical=False)
    cert = builder.sign(root.private_key, root.hash_algorithm)
    return IssuingCA(role, cert, key)


def authority_key_identifier(issuer: IssuingCA) -> x509.AuthorityKeyIdentifier:
    """AKI copied from the issuer's SKI (RFC 5280 4.2.1.1)."""
    return issuer.key_identifier


def crl_distribution_points(url: str) -> x509.CRLDistributionPoints:
    """A CDP extension with one full-name URI (RFC 5280 4.2.1.13)."""
    point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    return x509.CRLDistributionPoints([point])


def certificate_to_pem(cert: x509.Certificate) -> str:
    """PEM text of one certificate."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """Load exactly one PEM certificate; anything else raises ``ChainInvalid("malformed ...")``."""
    certificates = load_certificates(pem)
    if len(certificates) != 1:
        raise ChainInvalid(f"malformed PEM: expected one certificate, found {len(certificates)}")
    return certificates[0]


def load_certificates(pem: str | bytes) -> list[x509.Certificate]:
    """Load a PEM bundle (leaf first, as OCPP sends chains) into certificates."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ChainInvalid(f"malformed PEM certificate: {exc}") from exc
