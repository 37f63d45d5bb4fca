"""The audit log and security events pages over HTTP: filters, hostile filters, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import audit
from app.audit import AuditEntry
from app.edge import station_passwords
from app.platform import Platform
from charging import registry
from charging.tables import SecurityEventRow
from tests.dashboard.pages import log_in, post_login
from tests.factories import make_user

NOW = datetime.now(UTC).replace(microsecond=0)


def add_entries(platform: Platform) -> None:
    with Session(platform.engine) as session:
        session.add(AuditEntry(actor="cli", action="device.register", at=NOW - timedelta(days=30)))
        session.commit()
        audit.record(
            session,
            audit.Actor("user:alice", "10.0.0.1"),
            "pki.certificate_revoked",
            object_type="certificate",
            object_id="0A1B",
            reason="keyCompromise",
            note="<script>alert(1)</script>",
        )
        audit.record(
            session,
            audit.Actor("cli"),
            "family.create",
            object_type="family",
            object_id="wallbox",
        )
        audit.record(
            session,
            audit.Actor("station:CP-9"),
            "pki.client_certificate_refused",
            object_type="certificate",
            object_id="CP-9",
            outcome="failure",
            reason="certificate 1 is revoked",
        )
        session.commit()


def add_security_events(platform: Platform) -> None:
    with Session(platform.engine) as session:
        for station_id in ("CP-1", "CP-2"):
            registry.add_station(
                session,
                station_id,
                "station-password-0001",
                passwords=station_passwords(),
                now=NOW,
            )
        session.flush()
        session.add_all(
            [
                SecurityEventRow(
                    station_id="CP-1",
                    type="TamperDetectionActivated",
                    timestamp=NOW - timedelta(minutes=2),
                    tech_info="<img src=x onerror=alert(1)>",
                ),
                SecurityEventRow(
                    station_id="CP-2", type="InvalidMessages", timestamp=NOW - timedelta(minutes=1)
                ),
            ]
        )
        session.commit()


def test_the_audit_log_lists_newest_first_with_its_detail_escaped(
    platform: Platform, client: TestClient
) -> None:
    add_entries(platform)
    log_in(platform, client, "support")
    page = client.get("/audit")
    assert page.status_code == 200 and "<h1>Audit log</h1>" in page.text
    text = page.text
    assert text.index("pki.client_certificate_refused") < text.index("family.create")
    assert text.index("family.create") < text.index("device.register")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text


def test_the_audit_log_filters_by_actor_action_object_outcome_and_time(
    platform: Platform, client: TestClient
) -> None:
    add_entries(platform)
    log_in(platform, client, "admin")

    def actions(**params: str) -> set[str]:
        page = client.get("/audit", params=params)
        assert page.status_code == 200, page.text
        known = (
            "pki.certificate_revoked",
            "family.create",
            "pki.client_certificate_refused",
            "device.register",
        )
        return {action for action in known if f">{action}<" in page.text}

    assert actions(actor="cli") == {"family.create", "device.register"}
    assert actions(action="pki.*") == {"pki.certificate_revoked", "pki.client_certificate_refused"}
    assert actions(action="family.create") == {"family.create"}
    assert actions(object="0A1B") == {"pki.certificate_revoked"}
    assert actions(outcome="failure") == {"pki.client_certificate_refused"}
    day = (NOW - timedelta(days=30)).date().isoformat()
    assert actions(**{"from": day, "to": day}) == {"device.register"}
    assert "device.register" not in actions(**{"from": NOW.date().isoformat()})
    assert actions(**{"to": (NOW - timedelta(days=1)).isoformat()}) == {"device.register"}


def test_hostile_audit_filters_render_the_page_with_the_field_errors(
    platform: Platform, client: TestClient
) -> None:
    add_entries(platform)
    log_in(platform, client, "admin")
    page = client.get(
        "/audit",
        params={
            "actor": "<script>x</script>" * 400,
            "outcome": "<b>",
            "from": "yesterday<script>",
            "to": "2026-13-45",
            "offset": "-1",
        },
    )
    assert page.status_code == 422
    assert page.text.count("Give a date (2026-01-31)") == 2
    assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text
    assert (
        client.get("/audit", params={"action": "%_*", "offset": "99999999999"}).status_code == 200
    )


def test_security_events_show_the_stations_notifications_by_severity(
    platform: Platform, client: TestClient
) -> None:
    add_security_events(platform)
    log_in(platform, client, "support")
    page = client.get("/security-events")
    assert page.status_code == 200 and "<h1>Security events</h1>" in page.text
    assert "TamperDetectionActivated" in page.text and "InvalidMessages" in page.text
    assert "&lt;img src=x" in page.text and "<img src=x" not in page.text
    critical = client.get("/security-events", params={"severity": "critical"}).text
    assert ">TamperDetectionActivated<" in critical and ">InvalidMessages<" not in critical
    info = client.get("/security-events", params={"severity": "info"}).text
    assert ">InvalidMessages<" in info and ">TamperDetectionActivated<" not in info
    by_station = client.get("/security-events", params={"station": "CP-2"}).text
    assert ">InvalidMessages<" in by_station and ">TamperDetectionActivated<" not in by_station
    by_type = client.get("/security-events", params={"type": "InvalidMessages"}).text
    assert ">InvalidMessages<" in by_type and ">TamperDetectionActivated<" not in by_type


def test_security_events_show_the_platforms_security_audit_entries(
    platform: Platform, client: TestClient
) -> None:
    add_entries(platform)
    log_in(platform, client, "admin")
    page = client.get("/security-events", params={"source": "platform"})
    assert page.status_code == 200
    assert ">pki.certificate_revoked<" in page.text
    assert ">pki.client_certificate_refused<" in page.text
    assert ">family.create<" not in page.text
    station = client.get("/security-events", params={"source": "platform", "station": "CP-9"})
    assert ">pki.client_certificate_refused<" in station.text
    assert ">pki.certificate_revoked<" not in station.text
    info = client.get("/security-events", params={"source": "platform", "severity": "info"})
    assert ">dashboard.login<" in info.text and ">pki.certificate_revoked<" not in info.text


def test_hostile_security_event_filters_render_the_page(
    platform: Platform, client: TestClient
) -> None:
    add_security_events(platform)
    log_in(platform, client, "admin")
    for params in (
        {"station": "<script>" * 1000, "type": "'; drop table x; --", "severity": "<i>"},
        {"source": "<script>", "offset": "abc"},
        {"source": "platform", "type": "<script>", "station": "%"},
    ):
        page = client.get("/security-events", params=params)
        assert page.status_code == 200, params
        assert "<script><script>" not in page.text


def test_manufacturing_sees_neither_page(platform: Platform, client: TestClient) -> None:
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    assert client.get("/audit").status_code == 403
    assert client.get("/security-events").status_code == 403


def test_visitors_are_sent_to_log_in(client: TestClient) -> None:
    answer = client.get("/audit?actor=cli", follow_redirects=False)
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/login?next=/audit?actor=cli"
    )
