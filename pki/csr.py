"""Loading and checking PKCS#10 certificate signing requests (RFC 2986).

OCPP sends CSRs as PEM text of at most 5,500 characters (1.6 Security Whitepaper SignCertificate,
2.0.1 SignCertificateRequest). A CSR is signed only after :func:`check_csr` accepted it; the
:class:`CheckedCsr` it returns is what :func:`pki.issuance.issue_certificate` takes. Every refusal
raises :class:`CsrRejected` whose ``reason`` names what is wrong.

Keys accepted: RSA of 2048 to 8192 bits with an odd public exponent of at least 65537, or EC on
the NIST curves P-256, P-384 and P-521 (DESIGN.md "PKI": RSA >= 2048 or EC >= P-256; the TLS
suites OCPP 2.0.1 A00 names are ECDHE_ECDSA and ECDHE_RSA only, so no Ed25519). Signatures on the
request must use SHA-256 or stronger (A00 "Certificate properties").
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from pki.errors import CsrRejected
from pki.keys import PublicKey, describe_public_key
from pki.profiles import LeafProfile

MAX_CSR_CHARACTERS = 5500
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
ALLOWED_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
ALLOWED_HASHES = frozenset({"sha256", "sha384", "sha512"})
_ALLOWED_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    }
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN (NEW )?CERTIFICATE REQUEST-----"
    r"([A-Za-z0-9+/=\s]*)"
    r"-----END \1?CERTIFICATE REQUEST-----"
)


@dataclass(frozen=True, slots=True)
class CheckedCsr:
    """A CSR that :func:`check_csr` accepted for ``profile``; only that function makes one.

    It carries what the checks already read, the public key and the subject CN, so issuance
    does not parse the request again.
    """

    csr: x509.CertificateSigningRequest
    profile: LeafProfile
    public_key: PublicKey
    common_name: str


def load_csr(pem: str | bytes) -> x509.CertificateSigningRequest:
    """Parse one PEM-encoded PKCS#10 request of at most 5,500 characters."""
    if len(pem) > MAX_CSR_CHARACTERS:
        raise CsrRejected(f"too long: {len(pem)} characters, at most {MAX_CSR_CHARACTERS}")
    try:
        text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    except UnicodeDecodeError as exc:
        raise CsrRejected("malformed PEM: not ASCII text") from exc
    blocks = _PEM_BLOCK.findall(text)
    if len(blocks) != 1:
        raise CsrRejected(f"malformed PEM: expected one CERTIFICATE REQUEST, found {len(blocks)}")
    try:
        der = binascii.a2b_base64("".join(blocks[0][1].split()), strict_mode=True)
    except binascii.Error as exc:
        raise CsrRejected(f"malformed PEM: bad base64 ({exc})") from exc
    try:
        return x509.load_der_x509_csr(der)
    except ValueError as exc:
        raise CsrRejected(f"malformed DER: {exc}") from exc


def check_csr(
    csr: x509.CertificateSigningRequest,
    *,
    profile: LeafProfile,
    expected_common_name: str | None,
    expected_organization: str | None,
) -> CheckedCsr:
    """Accept ``csr`` for ``profile`` or raise :class:`CsrRejected` naming the first fault.

    Checked in order: key type and strength, signature hash, signature, requested extensions
    (no CA:true, nothing outside basicConstraints/keyUsage/EKU/SAN/SKI), then the subject: exactly
    one CN, equal to ``expected_common_name`` when given (the station's serial number for
    ``STATION``), and O equal to ``expected_organization`` when given (the CpoName).
    """
    public_key = _check_key(csr)
    _check_signature(csr)
    _check_extensions(csr)
    common_name = _check_subject(csr.subject, profile, expected_common_name, expected_organization)
    return CheckedCsr(csr, profile, public_key, common_name)


def _check_key(csr: x509.CertificateSigningRequest) -> PublicKey:
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CsrRejected(f"unreadable public key: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            described = describe_public_key(key)
            raise CsrRejected(f"key too weak: {described}, at least {MIN_RSA_BITS} required")
        if key.key_size > MAX_RSA_BITS:
            raise CsrRejected(f"key too large: {describe_public_key(key)}, at most {MAX_RSA_BITS}")
        exponent = key.public_numbers().e
        if exponent < 65537 or exponent % 2 == 0:
            raise CsrRejected(f"RSA public exponent {exponent} not allowed, 65537 expected")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ALLOWED_CURVES:
            described = describe_public_key(key)
            raise CsrRejected(f"curve not allowed: {described}, only P-256, P-384 or P-521")
        return key
    raise CsrRejected(f"key type not allowed: {describe_public_key(key)}, RSA or EC required")


def _check_signature(csr: x509.CertificateSigningRequest) -> None:
    try:
        algorithm = csr.signature_hash_algorithm
    except UnsupportedAlgorithm as exc:
        raise CsrRejected(f"unsupported signature algorithm: {exc}") from exc
    name = algorithm.name if algorithm is not None else "none"
    if name not in ALLOWED_HASHES:
        raise CsrRejected(f"weak signature hash: {name}, at least sha256 required")
    if not csr.is_signature_valid:
        raise CsrRejected("bad signature")


def _check_extensions(csr: x509.CertificateSigningRequest) -> None:
    try:
        extensions = list(csr.extensions)
    except ValueError as exc:
        raise CsrRejected(f"malformed extensions: {exc}") from exc
    for extension in extensions:
        if extension.oid not in _ALLOWED_EXTENSIONS:
            name = getattr(extension.oid, "_name", "Unknown OID")
            raise CsrRejected(
                f"unexpected extension requested: {name} ({extension.oid.dotted_string})"
            )
        value = extension.value
        if isinstance(value, x509.BasicConstraints) and value.ca:
            raise CsrRejected("CA:true requested")


def _check_subject(
    subject: x509.Name,
    profile: LeafProfile,
    expected_common_name: str | None,
    expected_organization: str | None,
) -> str:
    common_names = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if len(common_names) != 1:
        raise CsrRejected(f"subject must have exactly one CN, found {len(common_names)}")
    common_name = common_names[0]
    if expected_common_name is not None and common_name != expected_common_name:
        raise CsrRejected(
            f"subject CN {common_name!r} does not name {profile.name} {expected_common_name!r}"
        )
    if expected_organization is None:
        return common_name
    organizations = [
        str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
    if organizations != [expected_organization]:
        found = ", ".join(repr(o) for o in organizations) or "none"
        raise CsrRejected(f"subject O {found} is not operator {expected_organization!r}")
    return common_name
