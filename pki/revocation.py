"""Revocation: CRLs (RFC 5280 5) and OCSP answers (RFC 6960), signed by the issuing CA itself.

The platform keeps the revocation records; it hands them in as :class:`RevokedEntry` values for a
CRL and as a ``status_of(serial)`` lookup for OCSP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from pki.errors import IssuanceRefused
from pki.hierarchy import IssuingCA, authority_key_identifier, check_issuer_current
from pki.keys import SignatureHash, signature_hash

OCSP_VALIDITY = timedelta(hours=1)
"""How long an OCSP answer may be cached (nextUpdate - thisUpdate)."""


class RevocationReason(StrEnum):
    """CRLReason (RFC 5280 5.3.1), the codes the platform uses."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"

    @property
    def flag(self) -> x509.ReasonFlags:
        """The matching ``cryptography`` reason flag."""
        return x509.ReasonFlags(self.value)


class CertState(StrEnum):
    """The three OCSP certificate states (RFC 6960 2.2)."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate, as a CRL lists it."""

    serial_number: int
    revoked_at: datetime
    reason: RevocationReason = RevocationReason.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class CertStatus:
    """What ``status_of`` answers for a serial number."""

    state: CertState
    revoked: RevokedEntry | None = None

    def __post_init__(self) -> None:
        if (self.state is CertState.REVOKED) != (self.revoked is not None):
            raise ValueError("a revocation entry goes with, and only with, the revoked state")

    @classmethod
    def good(cls) -> CertStatus:
        """Issued by this CA and not revoked."""
        return cls(CertState.GOOD)

    @classmethod
    def unknown(cls) -> CertStatus:
        """Never issued by this CA, as far as the platform knows."""
        return cls(CertState.UNKNOWN)

    @classmethod
    def revoked_by(cls, entry: RevokedEntry) -> CertStatus:
        """Revoked as ``entry`` records."""
        return cls(CertState.REVOKED, entry)


def _hash(issuer: IssuingCA) -> SignatureHash:
    return signature_hash(issuer.private_key)


def build_crl(
    issuer: IssuingCA,
    revoked_entries: Iterable[RevokedEntry],
    *,
    now: datetime,
    next_update: datetime,
    crl_number: int,
) -> x509.CertificateRevocationList:
    """A CRL v2 with cRLNumber and AKI (RFC 5280 5.2.1, 5.2.3), each entry with its reason."""
    if next_update <= now:
        raise IssuanceRefused("CRL nextUpdate must be after thisUpdate")
    if crl_number < 0:
        raise IssuanceRefused(f"CRL number must not be negative, got {crl_number}")
    check_issuer_current(issuer, now)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(now)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(authority_key_identifier(issuer), critical=False)
    )
    for entry in revoked_entries:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial_number)
            .revocation_date(entry.revoked_at)
        )
        if entry.reason is not RevocationReason.UNSPECIFIED:
            # RFC 5280 5.3.1: the reason code unspecified SHOULD be left out.
            revoked = revoked.add_extension(x509.CRLReason(entry.reason.flag), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(issuer.private_key, _hash(issuer))


def crl_to_der(crl: x509.CertificateRevocationList) -> bytes:
    """DER bytes of a CRL, as served over HTTP (``application/pkix-crl``)."""
    return crl.public_bytes(serialization.Encoding.DER)


def answer_ocsp(
    request_der: bytes,
    *,
    issuers: Sequence[IssuingCA],
    status_of: Callable[[int], CertStatus],
    now: datetime,
    validity: timedelta = OCSP_VALIDITY,
) -> bytes:
    """Answer one DER OCSP request with a DER response (RFC 6960 4.2).

    The response is signed by the CA that issued the certificate asked about, the responder
    being that CA itself (RFC 6960 4.2.2.2). A request that does not parse, or asks about more
    than one certificate, gets ``malformedRequest``; a certificate from a CA not in ``issuers``
    gets ``unauthorized`` (RFC 6960 2.3, RFC 5019 2.2.3). A nonce in the request is echoed.
    """
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        extensions = request.extensions
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    issuer = _find_issuer(request, issuers)
    if issuer is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    status = status_of(request.serial_number)
    revoked = status.revoked if status.state is CertState.REVOKED else None
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=request.hash_algorithm,
        cert_status=_OCSP_STATUS[status.state],
        this_update=now,
        next_update=now + validity,
        revocation_time=revoked.revoked_at if revoked else None,
        revocation_reason=_reason_flag(revoked),
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
    for extension in extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            builder = builder.add_extension(extension.value, critical=False)
    response = builder.sign(issuer.private_key, _hash(issuer))
    return response.public_bytes(serialization.Encoding.DER)


_OCSP_STATUS = {
    CertState.GOOD: ocsp.OCSPCertStatus.GOOD,
    CertState.REVOKED: ocsp.OCSPCertStatus.REVOKED,
    CertState.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
}


def _reason_flag(revoked: RevokedEntry | None) -> x509.ReasonFlags | None:
    if revoked is None or revoked.reason is RevocationReason.UNSPECIFIED:
        return None
    return revoked.reason.flag


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
    return response.public_bytes(serialization.Encoding.DER)


def _find_issuer(request: ocsp.OCSPRequest, issuers: Sequence[IssuingCA]) -> IssuingCA | None:
    algorithm = request.hash_algorithm
    for issuer in issuers:
        name_hash = _digest(algorithm, issuer.name.public_bytes())
        key_hash = _digest(algorithm, _public_key_bits(issuer))
        if (name_hash, key_hash) == (request.issuer_name_hash, request.issuer_key_hash):
            return issuer
    return None


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def _public_key_bits(issuer: IssuingCA) -> bytes:
    """The subjectPublicKey BIT STRING contents RFC 6960 4.1.1 hashes for issuerKeyHash."""
    key = issuer.private_key.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
