"""The platform's internal certificate authority, as a pure library.

Two hierarchies, as the OCPP 1.6 Security Whitepaper (Ed. 3) and OCPP 2.0.1 Part 2 (A00) ask:
the operator root with its ``station``, ``user`` and ``server`` intermediates, and the
manufacturer root that signs firmware-signing certificates directly. The package checks CSRs,
issues, renews and revokes certificates, publishes CRLs and OCSP answers, and keeps CA keys
encrypted at rest. It reads no environment and imports nothing of the platform: time, keys and
serial numbers come in as arguments, and failures raise.
"""

from pki.csr import CheckedCsr, check_csr, load_csr
from pki.errors import (
    CertificateRevoked,
    ChainInvalid,
    ChainTooLong,
    CsrRejected,
    IssuanceRefused,
    KeyProtectionError,
    PkiError,
)
from pki.hierarchy import (
    CARole,
    IssuingCA,
    certificate_to_pem,
    create_intermediate,
    create_manufacturer_root,
    create_operator_root,
    load_certificate,
    load_certificates,
)
from pki.issuance import (
    RevocationUrls,
    chain_pem,
    issue_certificate,
    issue_server_certificate,
    new_serial_number,
)
from pki.keys import KeyKind, describe_public_key, generate_private_key
from pki.profiles import (
    FIRMWARE_SIGNING,
    SERVER,
    STATION,
    USER,
    LeafProfile,
    stations_of_user_certificate,
    user_subject_alt_names,
)
from pki.protection import (
    KeyEncryptor,
    KmsEnvelopeEncryptor,
    LocalKeyEncryptor,
    generate_kek,
    open_private_key,
    seal_private_key,
)
from pki.revocation import (
    CertState,
    CertStatus,
    RevocationReason,
    RevokedEntry,
    answer_ocsp,
    build_crl,
    crl_to_der,
)
from pki.verification import (
    VerifiedClient,
    station_id_of,
    verify_client_certificate,
    verify_user_certificate,
)

__all__ = [
    "CARole",
    "CertState",
    "CertStatus",
    "CertificateRevoked",
    "ChainInvalid",
    "ChainTooLong",
    "CheckedCsr",
    "CsrRejected",
    "FIRMWARE_SIGNING",
    "IssuanceRefused",
    "IssuingCA",
    "KeyEncryptor",
    "KeyKind",
    "KeyProtectionError",
    "KmsEnvelopeEncryptor",
    "LeafProfile",
    "LocalKeyEncryptor",
    "PkiError",
    "RevocationReason",
    "RevocationUrls",
    "RevokedEntry",
    "SERVER",
    "STATION",
    "USER",
    "VerifiedClient",
    "answer_ocsp",
    "build_crl",
    "certificate_to_pem",
    "chain_pem",
    "check_csr",
    "create_intermediate",
    "create_manufacturer_root",
    "create_operator_root",
    "crl_to_der",
    "describe_public_key",
    "generate_kek",
    "generate_private_key",
    "issue_certificate",
    "issue_server_certificate",
    "load_certificate",
    "load_certificates",
    "load_csr",
    "new_serial_number",
    "open_private_key",
    "seal_private_key",
    "station_id_of",
    "stations_of_user_certificate",
    "user_subject_alt_names",
    "verify_client_certificate",
    "verify_user_certificate",
]
