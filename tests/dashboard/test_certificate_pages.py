"""The certificate pages over HTTP: search, detail, revocation by admins only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import audit
from app.audit import AuditEntry
from app.ca.tables import IssuedCertificateRow
from app.edge import station_passwords
from app.platform import Platform
from charging import registry
from charging.tables import Station
from tests.dashboard.pages import log_in, post_login
from tests.factories import make_user
from tests.pki.builders import station_csr

NOW = datetime.now(UTC)


def issue(platform: Platform, station_id: str = "CP-1", *, register: bool = True) -> str:
    platform.ca.initialize(now=NOW)
    with Session(platform.engine) as session:
        if register and session.get(Station, station_id) is None:
            registry.add_station(
                session,
                station_id,
                "station-password-0001",
                passwords=station_passwords(),
                now=NOW,
            )
        issued = platform.ca.issue_station_certificate(
            session,
            station_csr(station_id),
            station_id=station_id,
            actor=audit.Actor("test"),
            now=NOW,
        )
        session.commit()
    return issued.serial_hex


def revoke_form(csrf: str, reason: str = "keyCompromise", confirm: str = "yes") -> dict[str, str]:
    return {"csrf_token": csrf, "reason": reason, "confirm": confirm}


def test_admins_search_certificates_by_serial_station_and_status(
    platform: Platform, client: TestClient
) -> None:
    first = issue(platform, "CP-1")
    second = issue(platform, "CP-2")
    log_in(platform, client, "admin")
    listing = client.get("/certificates")
    assert listing.status_code == 200
    assert "<h1>Certificates</h1>" in listing.text
    assert first in listing.text and second in listing.text
    by_serial = client.get("/certificates", params={"q": first.lower()})
    assert first in by_serial.text and second not in by_serial.text
    by_station = client.get("/certificates", params={"station": "CP-2"})
    assert second in by_station.text and first not in by_station.text
    by_prefix = client.get("/certificates", params={"q": "CP-"})
    assert first in by_prefix.text and second in by_prefix.text
    assert first in client.get("/certificates", params={"status": "valid"}).text
    assert "No certificate matches." in client.get("/certificates?status=revoked").text
    expiring = client.get("/certificates", params={"expiring": "3650"})
    assert first in expiring.text
    assert "No certificate matches." in client.get("/certificates?expiring=1").text


def test_hostile_search_values_render_the_page_escaped(
    platform: Platform, client: TestClient
) -> None:
    issue(platform)
    log_in(platform, client, "support")
    for params in (
        {"q": "<script>alert(1)</script>"},
        {"station": "<b>x</b>" * 1000, "status": "<i>", "expiring": "-5", "offset": "x"},
        {"q": "%' OR 1=1 --", "expiring": "99999999999", "status": "valid' --"},
    ):
        answer = client.get("/certificates", params=params)
        assert answer.status_code == 200, params
        assert "<script>alert" not in answer.text and "<b>x</b>" not in answer.text
    assert "&lt;script&gt;" in client.get("/certificates?q=<script>").text


def test_the_detail_shows_the_facts_pem_and_revocation_urls(
    platform: Platform, client: TestClient
) -> None:
    serial = issue(platform)
    log_in(platform, client, "admin")
    page = client.get(f"/certificates/{serial}")
    assert page.status_code == 200
    assert f"/certificates/{serial}/certificate.pem" in page.text
    assert "/pki/crl/station.crl" in page.text and "/pki/ocsp" in page.text
    assert "CN=CP-1" in page.text and "valid" in page.text
    assert 'data-live-station="CP-1"' in page.text and "offline" in page.text
    assert 'action="/certificates/' in page.text and "keyCompromise" in page.text
    pem = client.get(f"/certificates/{serial}/certificate.pem")
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN CERTIFICATE-----")
    fragment = client.get(f"/certificates/{serial}/station-state")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'data-station-state="offline"' in fragment.text


def test_an_admin_revokes_with_a_reason_and_the_revocation_is_audited(
    platform: Platform, client: TestClient
) -> None:
    serial = issue(platform)
    csrf = log_in(platform, client, "admin")
    answer = client.post(
        f"/certificates/{serial}/revoke", data=revoke_form(csrf), follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/certificates/{serial}?done=revoked"
    page = client.get(answer.headers["location"])
    assert "The certificate is revoked" in page.text and "keyCompromise" in page.text
    assert 'id="certificate-state">revoked<' in page.text
    assert 'action="/certificates/' not in page.text  # nothing more to revoke
    with Session(platform.engine) as session:
        row = session.exec(
            select(IssuedCertificateRow).where(IssuedCertificateRow.serial_hex == serial)
        ).one()
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "pki.certificate_revoked")
        ).one()
    assert row.status == "revoked" and row.revocation_reason == "keyCompromise"
    assert entry.actor.startswith("user:") and entry.object_id == serial
    assert json.loads(entry.detail)["reason"] == "keyCompromise"
    assert serial in client.get("/certificates?status=revoked").text
    again = client.post(f"/certificates/{serial}/revoke", data=revoke_form(csrf))
    assert again.status_code == 409
    assert "already revoked (keyCompromise" in again.text


def test_a_revocation_needs_a_listed_reason_and_the_confirmation(
    platform: Platform, client: TestClient
) -> None:
    serial = issue(platform)
    csrf = log_in(platform, client, "admin")
    hostile = "<script>alert(1)</script>" + "x" * 100_000
    answer = client.post(f"/certificates/{serial}/revoke", data=revoke_form(csrf, hostile, ""))
    assert answer.status_code == 422
    assert "Choose one of the listed reasons." in answer.text
    assert "Confirm that the certificate is to be revoked." in answer.text
    assert "<script>alert" not in answer.text and "x" * 1000 not in answer.text
    assert 'id="certificate-state">valid<' in answer.text


def test_support_sees_no_revoke_form_and_cannot_post_one(
    platform: Platform, client: TestClient
) -> None:
    serial = issue(platform)
    csrf = log_in(platform, client, "support")
    page = client.get(f"/certificates/{serial}")
    assert page.status_code == 200 and "Revoke this certificate" not in page.text
    answer = client.post(f"/certificates/{serial}/revoke", data=revoke_form(csrf))
    assert answer.status_code == 403
    with Session(platform.engine) as session:
        row = session.exec(
            select(IssuedCertificateRow).where(IssuedCertificateRow.serial_hex == serial)
        ).one()
    assert row.status == "issued"


def test_a_revocation_without_the_csrf_token_is_refused(
    platform: Platform, client: TestClient
) -> None:
    serial = issue(platform)
    log_in(platform, client, "admin")
    no_token = client.post(
        f"/certificates/{serial}/revoke", data={"reason": "keyCompromise", "confirm": "yes"}
    )
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.post(f"/certificates/{serial}/revoke", data=revoke_form("forged"))
    assert wrong.status_code == 403


def test_manufacturing_may_not_see_certificates(platform: Platform, client: TestClient) -> None:
    serial = issue(platform)
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    assert client.get("/certificates").status_code == 403
    assert client.get(f"/certificates/{serial}").status_code == 403


def test_an_unknown_or_malformed_serial_is_a_404_page(
    platform: Platform, client: TestClient
) -> None:
    issue(platform)
    csrf = log_in(platform, client, "admin")
    for serial in ("ABCDEF0123", "not-hex-<script>"):
        page = client.get(f"/certificates/{serial}")
        assert page.status_code == 404 and "Certificate not found" in page.text
        assert "<script>" not in page.text
        assert (
            client.post(f"/certificates/{serial}/revoke", data=revoke_form(csrf)).status_code == 404
        )
    assert client.get("/certificates/ABCDEF0123/certificate.pem").status_code == 404


def test_an_expired_certificate_shows_expired(platform: Platform, client: TestClient) -> None:
    serial = issue(platform)
    with Session(platform.engine) as session:
        row = session.exec(
            select(IssuedCertificateRow).where(IssuedCertificateRow.serial_hex == serial)
        ).one()
        row.not_after = NOW - timedelta(days=1)
        session.add(row)
        session.commit()
    log_in(platform, client, "support")
    assert serial in client.get("/certificates?status=expired").text
    assert serial not in client.get("/certificates?status=valid").text
