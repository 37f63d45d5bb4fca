"""Signing leaf certificates and assembling the chains sent to stations.

Every leaf carries basicConstraints CA:false (critical), the profile's keyUsage (critical) and
EKU, SKI and AKI (RFC 5280 4.2.1.1-2), the CRL distribution point and the OCSP responder in AIA
when the platform publishes them (RFC 5280 4.2.1.13, 4.2.2.1). notAfter never passes the
issuer's. Subjects are rebuilt, never copied: O from the issuing CA (the operator, OCPP 2.0.1
A00), CN from the accepted CSR, unless the caller passes ``subject``.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from pki.csr import CheckedCsr
from pki.errors import ChainInvalid, ChainTooLong, IssuanceRefused
from pki.hierarchy import (
    BACKDATE,
    MAX_SERIAL,
    IssuingCA,
    authority_key_identifier,
    certificate_to_pem,
    check_issuer_current,
    check_serial,
    crl_distribution_points,
)
from pki.keys import PublicKey, signature_hash
from pki.profiles import SERVER, LeafProfile

MAX_CHAIN_CHARACTERS = 10_000
"""OCPP CertificateSigned ``certificateChain`` is at most 10,000 characters."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class RevocationUrls:
    """Where the issuing CA publishes revocation: its CRL and its OCSP responder."""

    crl_url: str | None = None
    ocsp_url: str | None = None


def new_serial_number() -> int:
    """A random positive serial of at most 159 bits (RFC 5280 4.1.2.2; CA/B BR 7.1: >= 64 bits)."""
    return secrets.randbelow(MAX_SERIAL - 1) + 1


def issue_certificate(
    request: CheckedCsr,
    *,
    issuer: IssuingCA,
    serial: int,
    now: datetime,
    subject: x509.Name | None = None,
    san: Sequence[x509.GeneralName] = (),
    revocation_urls: RevocationUrls | None = None,
) -> x509.Certificate:
    """Sign an accepted CSR under its profile.

    Raises:
        IssuanceRefused: ``issuer`` is not the profile's CA or is not valid at ``now``, the
            serial is out of range, or the profile needs a SAN and ``san`` is empty.
    """
    csr = request.csr
    if subject is None:
        common_name = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        subject = _leaf_name(issuer, str(common_name))
    public_key = csr.public_key()
    if not isinstance(public_key, PublicKey):  # pragma: no cover - check_csr refuses these
        raise IssuanceRefused(f"cannot certify a {type(public_key).__name__}")
    return _sign_leaf(
        public_key, subject, issuer, request.profile, serial, now, san, revocation_urls
    )


def issue_server_certificate(
    public_key: PublicKey,
    *,
    issuer: IssuingCA,
    fqdn: str,
    serial: int,
    now: datetime,
    extra_dns_names: Sequence[str] = (),
    ip_addresses: Sequence[IPAddress] = (),
    revocation_urls: RevocationUrls | None = None,
) -> x509.Certificate:
    """A TLS server certificate for the platform itself: CN = ``fqdn``, SAN DNS/IP.

    The gateway holds two, one for an EC P-256 key and one for an RSA 2048 key, so that both
    ECDHE_ECDSA and ECDHE_RSA AES-GCM suites work (OCPP 2.0.1 A00, TLS 1.2 suites).
    """
    names: list[x509.GeneralName] = [x509.DNSName(fqdn)]
    names += [x509.DNSName(name) for name in extra_dns_names if name != fqdn]
    names += [x509.IPAddress(address) for address in ip_addresses]
    subject = _leaf_name(issuer, fqdn)
    return _sign_leaf(public_key, subject, issuer, SERVER, serial, now, names, revocation_urls)


def chain_pem(cert: x509.Certificate, issuer_chain: Sequence[x509.Certificate]) -> str:
    """PEM bundle leaf first, as OCPP CertificateSigned carries it, at most 10,000 characters.

    Each certificate must be signed by the next one; the root is normally left out.
    """
    links = [cert, *issuer_chain]
    for child, parent in zip(links, links[1:], strict=False):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ChainInvalid(f"unknown issuer: {child.subject.rfc4514_string()}") from exc
    text = "".join(certificate_to_pem(link) for link in links)
    if len(text) > MAX_CHAIN_CHARACTERS:
        raise ChainTooLong(f"too long: {len(text)} characters, at most {MAX_CHAIN_CHARACTERS}")
    return text


def _leaf_name(issuer: IssuingCA, common_name: str) -> x509.Name:
    attributes = list(issuer.name.get_attributes_for_oid(NameOID.COUNTRY_NAME))
    attributes += issuer.name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _sign_leaf(
    public_key: PublicKey,
    subject: x509.Name,
    issuer: IssuingCA,
    profile: LeafProfile,
    serial: int,
    now: datetime,
    san: Sequence[x509.GeneralName],
    revocation_urls: RevocationUrls | None,
) -> x509.Certificate:
    if issuer.role is not profile.issuer_role:
        raise IssuanceRefused(
            f"{profile.name} certificates are issued by the {profile.issuer_role} CA,"
            f" not {issuer.role}"
        )
    check_serial(serial)
    check_issuer_current(issuer, now)
    if profile.requires_san and not san:
        raise IssuanceRefused(f"{profile.name} certificates need a subjectAltName")
    not_after = min(now + profile.validity, issuer.certificate.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(max(now - BACKDATE, issuer.certificate.not_valid_before_utc))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(profile.key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(profile.extended_key_usage)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(authority_key_identifier(issuer), critical=False)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if revocation_urls is not None and revocation_urls.crl_url is not None:
        builder = builder.add_extension(
            crl_distribution_points(revocation_urls.crl_url), critical=False
        )
    if revocation_urls is not None and revocation_urls.ocsp_url is not None:
        ocsp = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier(revocation_urls.ocsp_url),
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([ocsp]), critical=False)
    return builder.sign(issuer.private_key, signature_hash(issuer.private_key))
