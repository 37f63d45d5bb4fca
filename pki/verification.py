"""Verifying client certificates presented at the TLS handshake (security profile 3).

OCPP 2.0.1 Part 2 A00 (profile 3): the CSMS accepts a station only with a certificate from the
station CA, valid now, whose subject CN names the station. The chain is built and checked with
``cryptography.x509.verification`` (RFC 5280 path validation, web-PKI extension rules, except
that a station certificate need not carry a SAN); before that, the common faults are named
plainly so the gateway can log a useful security event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki.errors import CertificateRevoked, ChainInvalid
from pki.profiles import stations_of_user_certificate


def station_id_of(cert: x509.Certificate) -> str:
    """The station identity a client certificate names: its single subject CN."""
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(common_names) != 1:
        raise ChainInvalid(f"subject must have exactly one CN, found {len(common_names)}")
    return str(common_names[0].value)


@dataclass(frozen=True, slots=True)
class VerifiedClient:
    """What a full :func:`verify_client_certificate` established about one certificate.

    Chain, signatures and EKU of a given certificate never change, so a caller that keeps this
    (keyed by the certificate's fingerprint) only has to :meth:`recheck` what does change:
    the time, the station the certificate is presented for, and revocation.
    """

    station_id: str
    serial_number: int
    not_before: datetime
    not_after: datetime

    @classmethod
    def of(cls, cert: x509.Certificate) -> VerifiedClient:
        """Remember ``cert``; only after :func:`verify_client_certificate` accepted it."""
        return cls(
            station_id_of(cert),
            cert.serial_number,
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
        )

    def recheck(
        self,
        *,
        now: datetime,
        is_revoked: Callable[[int], bool],
        expected_station_id: str | None = None,
    ) -> str:
        """The checks of :func:`verify_client_certificate` that depend on more than the
        certificate, with the same errors; returns the station id."""
        _check_validity(self.not_before, self.not_after, now)
        _check_station(self.station_id, expected_station_id)
        if is_revoked(self.serial_number):
            raise CertificateRevoked(self.serial_number)
        return self.station_id


def verify_client_certificate(
    cert: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
    is_revoked: Callable[[int], bool],
    expected_station_id: str | None = None,
) -> str:
    """Check a station's client certificate and return the station id it names.

    ``intermediates`` are the station CA certificates and ``roots`` the operator roots; a
    certificate from any other CA (the user CA, a foreign CA) fails with "unknown issuer".

    Raises:
        ChainInvalid: "expired", "not yet valid", "wrong EKU: ...", "unknown issuer: ...",
            "subject CN ... does not name station ...", or "chain rejected: ..." for the rest.
        CertificateRevoked: the chain is fine but ``is_revoked(serial)`` says it is revoked.
    """
    _check_leaf(cert, intermediates, now)
    store = verification.Store(list(roots))
    verifier = (
        verification.PolicyBuilder()
        .store(store)
        .time(now)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
        .build_client_verifier()
    )
    try:
        verifier.verify(cert, list(intermediates))
    except verification.VerificationError as exc:
        raise ChainInvalid(f"chain rejected: {exc}") from exc
    station_id = station_id_of(cert)
    _check_station(station_id, expected_station_id)
    if is_revoked(cert.serial_number):
        raise CertificateRevoked(cert.serial_number)
    return station_id


def verify_user_certificate(
    cert: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime,
    is_revoked: Callable[[int], bool],
    station_id: str,
) -> None:
    """Check a user certificate (from the user CA) and that it is bound to ``station_id``."""
    verify_client_certificate(
        cert, intermediates=intermediates, roots=roots, now=now, is_revoked=is_revoked
    )
    if station_id not in stations_of_user_certificate(cert):
        raise ChainInvalid(f"user certificate is not bound to station {station_id!r}")


_CA_POLICY = verification.ExtensionPolicy.webpki_defaults_ca()
_EE_POLICY = verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
)


def _check_leaf(
    cert: x509.Certificate, intermediates: Sequence[x509.Certificate], now: datetime
) -> None:
    _check_validity(cert.not_valid_before_utc, cert.not_valid_after_utc, now)
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise ChainInvalid("wrong EKU: none present, clientAuth required") from None
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise ChainInvalid("wrong EKU: clientAuth required")
    if not any(_issued_by(cert, parent) for parent in intermediates):
        raise ChainInvalid(f"unknown issuer: {cert.issuer.rfc4514_string()}")


def _check_validity(not_before: datetime, not_after: datetime, now: datetime) -> None:
    if now < not_before:
        raise ChainInvalid("not yet valid")
    if now > not_after:
        raise ChainInvalid("expired")


def _check_station(station_id: str, expected_station_id: str | None) -> None:
    if expected_station_id is not None and station_id != expected_station_id:
        raise ChainInvalid(
            f"subject CN {station_id!r} does not name station {expected_station_id!r}"
        )


def _issued_by(cert: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
