"""Small builders for PKI tests: CSRs made the way stations make them, and hostile variants."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from pki import generate_private_key

OPERATOR = "Chargeline Test CPO"


def subject(common_name: str | None, organization: str | None = OPERATOR) -> x509.Name:
    attributes = []
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def make_csr(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str | None = "SN-0001",
    organization: str | None = OPERATOR,
    *,
    extensions: tuple[x509.ExtensionType, ...] = (),
    algorithm: hashes.HashAlgorithm | None = None,
    name: x509.Name | None = None,
) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        name if name is not None else subject(common_name, organization)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    if algorithm is None and not _is_edwards(key):
        algorithm = hashes.SHA256()
    return builder.sign(key, algorithm)  # type: ignore[arg-type]


def csr_pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def der_to_pem(der: bytes, label: str = "CERTIFICATE REQUEST") -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _is_edwards(key: CertificateIssuerPrivateKeyTypes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    return isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)


def station_csr(station_id: str = "CP-1", **kwargs: object) -> str:
    """A PEM CSR for ``station_id`` on a fresh key, as a station sends it."""
    return csr_pem(make_csr(generate_private_key(), station_id, **kwargs))  # type: ignore[arg-type]
