"""Leaf certificate profiles: what each kind of certificate the platform issues looks like.

- ``STATION``: the charging station's client certificate for security profile 3. Subject
  O = operator (CpoName), CN = the station's serial number (OCPP 2.0.1 Part 2 A00 "Certificate
  properties"; 1.6 Security Whitepaper Ed. 3, 4.1); EKU clientAuth; two years, renewed by the
  station before expiry (A03).
- ``USER``: owners' and guests' short-lived client certificates for local talk to a station.
  The stations a user may talk to are listed as SAN URIs ``urn:chargeline:station:<id>``; the
  user is named by ``urn:chargeline:user:<id>``.
- ``SERVER``: the platform's own TLS certificates: CN = FQDN, SAN DNS/IP required (RFC 6125),
  EKU serverAuth, 397 days.
- ``FIRMWARE_SIGNING``: EKU codeSigning, issued by the manufacturer root directly (A00: the
  firmware-signing certificate is signed by the root, no intermediate).

Leaves get keyUsage digitalSignature only: TLS 1.2 ECDHE suites and TLS 1.3 sign, never encrypt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from pki.hierarchy import CARole

STATION_URN_PREFIX = "urn:chargeline:station:"
USER_URN_PREFIX = "urn:chargeline:user:"

_SIGNING_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True, slots=True)
class LeafProfile:
    """How a leaf certificate of one kind is shaped, and which CA signs it."""

    name: str
    issuer_role: CARole
    validity: timedelta
    key_usage: x509.KeyUsage
    extended_key_usage: tuple[ObjectIdentifier, ...]
    requires_san: bool = False


STATION = LeafProfile(
    name="station",
    issuer_role=CARole.STATION,
    validity=timedelta(days=730),
    key_usage=_SIGNING_ONLY,
    extended_key_usage=(ExtendedKeyUsageOID.CLIENT_AUTH,),
)
USER = LeafProfile(
    name="user",
    issuer_role=CARole.USER,
    validity=timedelta(days=7),
    key_usage=_SIGNING_ONLY,
    extended_key_usage=(ExtendedKeyUsageOID.CLIENT_AUTH,),
    requires_san=True,
)
SERVER = LeafProfile(
    name="server",
    issuer_role=CARole.SERVER,
    validity=timedelta(days=397),
    key_usage=_SIGNING_ONLY,
    extended_key_usage=(ExtendedKeyUsageOID.SERVER_AUTH,),
    requires_san=True,
)
FIRMWARE_SIGNING = LeafProfile(
    name="firmware-signing",
    issuer_role=CARole.MANUFACTURER_ROOT,
    validity=timedelta(days=3 * 365),
    key_usage=_SIGNING_ONLY,
    extended_key_usage=(ExtendedKeyUsageOID.CODE_SIGNING,),
)


def user_subject_alt_names(user_id: str, station_ids: Iterable[str]) -> list[x509.GeneralName]:
    """SAN entries binding a user certificate to its user and the stations it may talk to.

    Ids are percent-encoded (RFC 3986 2.1), so any OCPP identity fits in a URN.
    """
    stations = sorted(set(station_ids))
    names: list[x509.GeneralName] = [_urn(USER_URN_PREFIX, user_id)]
    names += [_urn(STATION_URN_PREFIX, station_id) for station_id in stations]
    return names


def _urn(prefix: str, value: str) -> x509.UniformResourceIdentifier:
    return x509.UniformResourceIdentifier(prefix + quote(value, safe=""))


def stations_of_user_certificate(cert: x509.Certificate) -> frozenset[str]:
    """The station ids a user certificate is bound to (empty if it names none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    prefix = len(STATION_URN_PREFIX)
    return frozenset(unquote(u[prefix:]) for u in uris if u.startswith(STATION_URN_PREFIX))
