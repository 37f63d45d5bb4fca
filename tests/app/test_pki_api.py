"""The CA over HTTP: CAs, issuing from CSRs, listing, revoking, CRLs and OCSP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient

from app.ca.revocation import Revocation
from app.platform import Platform
from pki import CARole, RevocationReason, load_certificates
from tests.factories import admin_headers, bearer, make_client
from tests.pki.builders import station_csr

NOW = datetime.now(UTC)


@pytest.fixture
def admin(platform: Platform, client: TestClient) -> dict[str, str]:
    platform.ca.initialize(now=NOW)
    return admin_headers(platform, client)


def issue(client: TestClient, headers: dict[str, str], station_id: str = "CP-1") -> dict[str, str]:
    response = client.post(
        "/api/v1/certificates",
        json={"csr": station_csr(station_id), "station_id": station_id},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
    return request.public_bytes(serialization.Encoding.DER)


def test_admins_list_the_cas_and_download_their_chains(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    cas = client.get("/api/v1/cas", headers=admin).json()
    assert sorted(ca["role"] for ca in cas) == sorted(role.value for role in CARole)
    station = next(ca for ca in cas if ca["role"] == "station")
    chain = client.get(station["_links"]["chain"]["href"], headers=admin)
    assert chain.headers["content-type"] == "application/x-pem-file"
    assert (
        load_certificates(chain.text)[1] == platform.ca.authority(CARole.OPERATOR_ROOT).certificate
    )


def test_the_factory_line_issues_a_station_certificate_from_a_csr(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    line = make_client(platform, "manufacturing")
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": line.client_id,
            "client_secret": line.client_secret,
        },
    ).json()["access_token"]
    body = issue(client, bearer(token))
    assert body["_links"]["revoke"]["href"] == f"/api/v1/certificates/{body['serial']}/revoke"
    assert (
        load_certificates(body["chain_pem"])[0].subject.rfc4514_string() == "CN=CP-1,O=Chargeline"
    )
    listed = client.get("/api/v1/certificates", params={"station_id": "CP-1"}, headers=admin)
    assert [item["serial"] for item in listed.json()["items"]] == [body["serial"]]


def test_a_csr_naming_another_station_is_a_422_with_the_reason(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/certificates",
        json={"csr": station_csr("CP-2"), "station_id": "CP-1"},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/csr-rejected")
    assert (
        response.json()["detail"] == "CSR rejected: subject CN 'CP-2' does not name station 'CP-1'"
    )


def test_ambiguous_issue_bodies_and_owners_are_refused(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    both = {"csr": station_csr("CP-1"), "station_id": "CP-1", "user_id": "u", "station_ids": ["a"]}
    assert client.post("/api/v1/certificates", json=both, headers=admin).status_code == 422
    from tests.factories import make_user, password_tokens

    make_user(platform, "owner@example.com", "owner")
    owner = bearer(password_tokens(client, "owner@example.com")["access_token"])
    response = client.post(
        "/api/v1/certificates", json={"csr": station_csr(), "station_id": "CP-1"}, headers=owner
    )
    assert response.status_code == 403


def test_revoking_shows_in_the_crl_and_ocsp_and_is_announced(
    platform: Platform, client: TestClient, admin: dict[str, str]
) -> None:
    announced: list[Revocation] = []
    platform.ca.listeners.append(announced.append)
    body = issue(client, admin)
    leaf = load_certificates(body["chain_pem"])[0]
    station_ca = platform.ca.authority(CARole.STATION).certificate
    answer = client.post(
        "/pki/ocsp",
        content=ocsp_request(leaf, station_ca),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert answer.headers["content-type"] == "application/ocsp-response"
    assert (
        ocsp.load_der_ocsp_response(answer.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    )
    revoked = client.post(
        f"/api/v1/certificates/{body['serial'].lower()}/revoke",
        json={"reason": "keyCompromise"},
        headers=admin,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert [(r.serial_hex, r.station_id, r.reason) for r in announced] == [
        (body["serial"], "CP-1", RevocationReason.KEY_COMPROMISE)
    ]
    again = client.post(
        f"/api/v1/certificates/{body['serial']}/revoke",
        json={"reason": "keyCompromise"},
        headers=admin,
    )
    assert again.status_code == 409
    crl = client.get("/pki/crl/station.crl")
    assert crl.headers["content-type"] == "application/pkix-crl"
    entry = x509.load_der_x509_crl(crl.content).get_revoked_certificate_by_serial_number(
        leaf.serial_number
    )
    assert entry is not None
    import base64

    encoded = base64.b64encode(ocsp_request(leaf, station_ca)).decode()
    answer = client.get(f"/pki/ocsp/{encoded}")
    status = ocsp.load_der_ocsp_response(answer.content)
    assert status.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert status.revocation_reason == x509.ReasonFlags.key_compromise


def test_bad_revocation_input_gets_the_right_problem(
    client: TestClient, admin: dict[str, str]
) -> None:
    bad = client.post("/api/v1/certificates/zz/revoke", json={}, headers=admin)
    assert (bad.status_code, bad.json()["detail"]) == (422, "not a hexadecimal serial number: 'zz'")
    missing = client.post("/api/v1/certificates/0abc/revoke", json={}, headers=admin)
    assert missing.status_code == 404
    reason = client.post(
        "/api/v1/certificates/0abc/revoke", json={"reason": "bored"}, headers=admin
    )
    assert reason.status_code == 422 and reason.json()["errors"][0]["field"] == "reason"


def test_malformed_ocsp_and_unknown_crls_are_answered_plainly(
    client: TestClient, admin: dict[str, str]
) -> None:
    garbage = client.post(
        "/pki/ocsp", content=b"\x30\x01", headers={"Content-Type": "application/ocsp-request"}
    )
    assert ocsp.load_der_ocsp_response(garbage.content).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    wrong_type = client.post("/pki/ocsp", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    not_base64 = client.get("/pki/ocsp/%%%")
    assert ocsp.load_der_ocsp_response(not_base64.content).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    assert client.get("/pki/crl/nobody.crl").status_code == 404


def test_an_uninitialised_ca_answers_503(client: TestClient) -> None:
    response = client.get("/pki/crl/station.crl")
    assert response.status_code == 503
    assert response.json()["detail"] == "the CA is not initialised: run `chargeline pki init`"
