"""User certificates from the app: stations the caller may not use, malformed and weak CSRs.

Every refusal leaves the certificates, bindings and user-CA install tables as they were.
"""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.ca.tables import IssuedCertificateRow
from app.platform import Platform
from enrollment.ownership.tables import UserCAInstall, UserCertificateBinding
from tests.owner_helpers import Inbox, login, make_device, pair

OWN = "SN-CERT-0001"
OTHERS = "SN-CERT-0002"
UNPAIRED = "SN-CERT-0003"
GUEST = "guest@example.com"


def csr_pem(key: CertificateIssuerPrivateKeyTypes | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "guest phone")]))
        .sign(key, algorithm)
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def counts(platform: Platform) -> tuple[int, int, int]:
    with Session(platform.engine) as session:
        return (
            session.exec(select(func.count()).select_from(IssuedCertificateRow)).one(),
            session.exec(select(func.count()).select_from(UserCertificateBinding)).one(),
            session.exec(select(func.count()).select_from(UserCAInstall)).one(),
        )


@pytest.fixture
def guest(client: TestClient, platform: Platform, inbox: Inbox) -> dict[str, str]:
    """A guest of ``OWN``; ``OTHERS`` belongs to a stranger; ``UNPAIRED`` to nobody."""
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, make_device(platform, OWN))
    pair(client, login(platform, client, "stranger@example.com"), make_device(platform, OTHERS))
    make_device(platform, UNPAIRED)
    client.post(
        f"/api/v1/app/stations/{OWN}/invitations",
        json={"email": GUEST, "role": "guest"},
        headers=owner,
    )
    headers = login(platform, client, GUEST)
    token = inbox.token(GUEST, "/app/invitations/accept")
    accepted = client.post("/api/v1/app/invitations/accept", json={"token": token}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    return headers


@pytest.mark.parametrize(
    "stations",
    [[OTHERS], [OWN, OTHERS], [UNPAIRED], ["SN-NEVER-MADE"], ["not a serial"], []],
)
def test_a_guest_naming_a_station_they_may_not_use_gets_nothing(
    client: TestClient, platform: Platform, guest: dict[str, str], stations: list[str]
) -> None:
    before = counts(platform)
    response = client.post(
        "/api/v1/app/certificates", json={"csr": csr_pem(), "stations": stations}, headers=guest
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/forbidden")
    assert OTHERS not in response.json()["detail"]
    assert counts(platform) == before


def test_the_same_guest_gets_a_certificate_for_their_own_station(
    client: TestClient, platform: Platform, guest: dict[str, str]
) -> None:
    before = counts(platform)
    response = client.post(
        "/api/v1/app/certificates", json={"csr": csr_pem(), "stations": [OWN]}, headers=guest
    )
    assert response.status_code == 201, response.text
    assert response.json()["stations"] == [OWN]
    assert counts(platform) == (before[0] + 1, before[1] + 1, 1)


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


GOOD = csr_pem()
MALFORMED = [
    ("not a PEM at all", "malformed PEM: expected one CERTIFICATE REQUEST, found 0"),
    (GOOD + GOOD, "malformed PEM: expected one CERTIFICATE REQUEST, found 2"),
    (
        _pem("CERTIFICATE REQUEST", b"").replace("\n-----END", "AAAA=AAA\n-----END"),
        "malformed PEM: bad base64",
    ),
    (_pem("CERTIFICATE REQUEST", b"\x30\x03\x02\x01\x00"), "malformed DER"),
    (
        _pem(
            "CERTIFICATE REQUEST",
            x509.load_pem_x509_csr(GOOD.encode()).public_bytes(serialization.Encoding.DER)[:-20],
        ),
        "malformed DER",
    ),
    (
        GOOD.replace("-----\n", "-----\n\u00e9", 1),
        "malformed PEM: expected one CERTIFICATE REQUEST, found 0",
    ),
]


@pytest.mark.parametrize(
    ("csr", "reason"),
    MALFORMED,
    ids=["no-pem", "two-blocks", "bad-base64", "bad-der", "cut-der", "non-ascii"],
)
def test_a_malformed_csr_is_refused_with_the_reason(
    client: TestClient, platform: Platform, guest: dict[str, str], csr: str, reason: str
) -> None:
    before = counts(platform)
    response = client.post("/api/v1/app/certificates", json={"csr": csr}, headers=guest)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/csr-rejected")
    assert response.json()["detail"].startswith(f"CSR rejected: {reason}")
    assert counts(platform) == before


def test_a_csr_whose_signature_does_not_match_its_key_is_refused(
    client: TestClient, platform: Platform, guest: dict[str, str]
) -> None:
    der = bytearray(x509.load_pem_x509_csr(GOOD.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature value
    before = counts(platform)
    response = client.post(
        "/api/v1/app/certificates",
        json={"csr": _pem("CERTIFICATE REQUEST", bytes(der))},
        headers=guest,
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "CSR rejected: bad signature"
    assert counts(platform) == before


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (
            rsa.generate_private_key(public_exponent=65537, key_size=1024),
            "key too weak: RSA 1024 bits, at least 2048 required",
        ),
        (
            ec.generate_private_key(ec.SECP224R1()),
            "curve not allowed: EC P-224, only P-256, P-384 or P-521",
        ),
        (
            ed25519.Ed25519PrivateKey.generate(),
            "key type not allowed: Ed25519, RSA or EC required",
        ),
    ],
    ids=["rsa-1024", "ec-p224", "ed25519"],
)
def test_a_csr_with_a_weak_or_foreign_key_is_refused_with_the_reason(
    client: TestClient,
    platform: Platform,
    guest: dict[str, str],
    key: CertificateIssuerPrivateKeyTypes,
    reason: str,
) -> None:
    before = counts(platform)
    response = client.post("/api/v1/app/certificates", json={"csr": csr_pem(key)}, headers=guest)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/csr-rejected")
    assert response.json()["detail"] == f"CSR rejected: {reason}"
    assert counts(platform) == before
