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
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from pki.csr import CheckedCsr
from pki.errors import ChainInvalid, ChainTooLong, IssuanceRefused
from pki.hierarchy import (
    BACKDATE,
    MAX_SERIAL,
    IssuingCA,
    certificate_to_pem,
    check_issuer_current,
    check_serial,
    crl_distribution_points,
)
from pki.keys import PublicKey
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
    if subject is None:
        subject = _leaf_name(issuer, request.common_name)
    return _sign_leaf(
        request.public_key, subject, issuer, request.profile, serial, now, san, revocation_urls
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


_END_ENTITY = x509.Extension(
    ExtensionOID.BASIC_CONSTRAINTS, True, x509.BasicConstraints(ca=False, path_length=None)
)


@lru_cache(maxsize=64)
def _profile_extensions(
    key_usage: x509.KeyUsage, extended_key_usage: tuple[x509.ObjectIdentifier, ...]
) -> tuple[x509.Extension[x509.ExtensionType], ...]:
    """The extensions every leaf of a profile shares, in the order leaves carry them."""
    usage = x509.ExtendedKeyUsage(list(extended_key_usage))
    return (
        _END_ENTITY,
        x509.Extension(ExtensionOID.KEY_USAGE, True, key_usage),
        x509.Extension(ExtensionOID.EXTENDED_KEY_USAGE, False, usage),
    )


@lru_cache(maxsize=64)
def _revocation_extensions(urls: RevocationUrls) -> tuple[x509.Extension[x509.ExtensionType], ...]:
    """CDP and AIA/OCSP for the URLs the issuing CA publishes (RFC 5280 4.2.1.13, 4.2.2.1)."""
    extensions: list[x509.Extension[x509.ExtensionType]] = []
    if urls.crl_url is not None:
        points = crl_distribution_points(urls.crl_url)
        extensions.append(x509.Extension(points.oid, False, points))
    if urls.ocsp_url is not None:
        ocsp = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp_url)
        )
        access = x509.AuthorityInformationAccess([ocsp])
        extensions.append(x509.Extension(access.oid, False, access))
    return tuple(extensions)


def _non_critical(value: x509.ExtensionType) -> x509.Extension[x509.ExtensionType]:
    return x509.Extension(value.oid, False, value)


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
    extensions = [
        *_profile_extensions(profile.key_usage, profile.extended_key_usage),
        _non_critical(x509.SubjectKeyIdentifier.from_public_key(public_key)),
        _non_critical(issuer.key_identifier),
    ]
    if san:
        extensions.append(_non_critical(x509.SubjectAlternativeName(list(san))))
    if revocation_urls is not None:
        extensions += _revocation_extensions(revocation_urls)
    # One constructor call instead of a chain of builder copies. Every value is checked above or
    # built here: the serial by check_serial, distinct extension OIDs, and notBefore <= now <
    # notAfter because check_issuer_current holds the issuer's own validity around ``now``.
    builder = x509.CertificateBuilder(
        issuer_name=issuer.name,
        subject_name=subject,
        public_key=public_key,
        serial_number=serial,
        not_valid_before=max(now - BACKDATE, issuer.not_before),
        not_valid_after=min(now + profile.validity, issuer.not_after),
        extensions=extensions,
    )
    return builder.sign(issuer.private_key, issuer.hash_algorithm)
