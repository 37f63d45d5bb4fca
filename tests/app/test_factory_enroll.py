"""Factory enrollment over REST: CSR in, certificate chain, root, endpoints and password out."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.edge import station_passwords
from app.platform import Platform
from charging.tables import Station
from common.clock import utcnow
from tests.app.factory_line import device_body, line_headers, stock_line
from tests.problems import assert_problem


@pytest.fixture
def line(platform: Platform, client: TestClient) -> dict[str, str]:
    platform.ca.initialize(now=utcnow())
    stock_line(platform)
    return line_headers(platform, client)


def make_csr(
    common_name: str, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None
) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chargeline"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def enroll(client: TestClient, line: dict[str, str], serial: str, csr: str) -> dict[str, object]:
    response = client.post(f"/api/v1/devices/{serial}/enroll", json={"csr": csr}, headers=line)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_enrollment_returns_the_chain_root_endpoints_and_a_one_time_password(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    body = enroll(client, line, "SN-1", make_csr("SN-1"))
    assert body["state"] == "enrolled" and body["security_profile"] == 2
    leaf = x509.load_pem_x509_certificate(str(body["certificate_pem"]).encode())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SN-1"
    chain = x509.load_pem_x509_certificates(str(body["chain_pem"]).encode())
    root = x509.load_pem_x509_certificate(str(body["root_pem"]).encode())
    first, intermediate = chain
    assert first == leaf
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    settings = platform.settings
    assert body["ocpp"] == {
        "ws": f"ws://{settings.ocpp_host}:{settings.ocpp_port}/ocpp/SN-1",
        "wss": f"wss://{settings.ocpp_host}:{settings.ocpp_tls_port}/ocpp/SN-1",
    }
    password = str(body["station_password"])
    assert 16 <= len(password) <= 40
    with Session(platform.engine) as session:
        station = session.get(Station, "SN-1")
        assert station is not None and station.security_profile == 2
        assert station_passwords().verify(password, station.password_hash)
        assert password not in (station.password_hash or "")
    device = client.get("/api/v1/devices/SN-1", headers=line).json()
    assert (
        device["state"] == "enrolled" and device["certificate_serial"] == body["certificate_serial"]
    )


def test_enrolling_again_issues_a_new_certificate_and_password(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    first = enroll(client, line, "SN-1", make_csr("SN-1"))
    second = enroll(client, line, "SN-1", make_csr("SN-1"))
    assert second["certificate_serial"] != first["certificate_serial"]
    with Session(platform.engine) as session:
        station = session.get(Station, "SN-1")
        assert station is not None
        assert station_passwords().verify(str(second["station_password"]), station.password_hash)
        assert not station_passwords().verify(str(first["station_password"]), station.password_hash)


def test_enrollment_never_lowers_a_station_that_reached_profile_3(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    enroll(client, line, "SN-1", make_csr("SN-1"))
    with Session(platform.engine) as session:
        station = session.get(Station, "SN-1")
        assert station is not None
        station.security_profile = 3
        session.add(station)
        session.commit()
    assert enroll(client, line, "SN-1", make_csr("SN-1"))["security_profile"] == 3


@pytest.mark.parametrize(
    ("csr", "detail"),
    [
        (make_csr("SN-2"), "CSR rejected: "),
        (make_csr("SN-1", rsa.generate_private_key(65537, 1024)), "CSR rejected: "),
        ("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n", "CSR rejected: "),
    ],
)
def test_a_bad_csr_is_422_and_the_device_stays_registered(
    platform: Platform, client: TestClient, line: dict[str, str], csr: str, detail: str
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    response = client.post("/api/v1/devices/SN-1/enroll", json={"csr": csr}, headers=line)
    problem = assert_problem(response, 422, "csr-rejected")
    assert str(problem["detail"]).startswith(detail) and problem["reason"]
    assert client.get("/api/v1/devices/SN-1", headers=line).json()["state"] == "registered"
    with Session(platform.engine) as session:
        assert session.get(Station, "SN-1") is None


def test_an_oversized_csr_names_the_field(client: TestClient, line: dict[str, str]) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    response = client.post("/api/v1/devices/SN-1/enroll", json={"csr": "x" * 5501}, headers=line)
    assert assert_problem(response, 422, "validation-error")["detail"] == "invalid request: csr"


def test_a_released_device_cannot_enroll_and_an_unknown_one_is_404(
    platform: Platform, client: TestClient, line: dict[str, str]
) -> None:
    client.post("/api/v1/devices", json=device_body("SN-1"), headers=line)
    enroll(client, line, "SN-1", make_csr("SN-1"))
    assert client.post("/api/v1/devices/SN-1/release", headers=line).json()["state"] == "released"
    response = client.post(
        "/api/v1/devices/SN-1/enroll", json={"csr": make_csr("SN-1")}, headers=line
    )
    problem = assert_problem(response, 409, "invalid-transition")
    assert problem["detail"] == "device is released; it cannot become enrolled"
    unknown = client.post(
        "/api/v1/devices/NO-1/enroll", json={"csr": make_csr("NO-1")}, headers=line
    )
    assert_problem(unknown, 404, "not-found")
