"""The overview: the fleet's counts, firmware by family, expiring certificates, security events."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from app.platform import Platform
from common.clock import utcnow
from tests.dashboard.fleet import (
    add_family,
    add_rows,
    add_station,
    certificate,
    connector,
    finished_session,
    running_session,
    security_event,
)
from tests.dashboard.pages import log_in, post_login
from tests.factories import make_user


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"><span class="value">([^<]*)</span>', html)
    assert found, f"no figure {name}"
    return found.group(1)


def seed(platform: Platform) -> None:
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    wall = add_family(platform, "wallbox-1")
    add_family(platform, "pillar-2")
    add_station(platform, "CP-1", family_id=wall, online=True, firmware="1.0.0", now=now)
    add_station(platform, "CP-2", family_id=wall, online=True, firmware="1.1.0", now=now)
    add_station(platform, "CP-3", family_id=wall, firmware="1.1.0", now=now)
    add_station(platform, "LOOSE-1", now=now, firmware=None)
    add_rows(
        platform,
        connector("CP-2", "Faulted", now),
        connector("CP-1", "Occupied", now),
        finished_session("CP-1", "1", midnight + timedelta(seconds=1), 4000.0),
        finished_session("CP-3", "2", midnight - timedelta(hours=2), 9999.0),  # yesterday
        certificate("CP-1", "0A01", now + timedelta(days=10)),
        certificate("CP-2", "0A02", now + timedelta(days=90)),
        certificate("CP-3", "0A03", now + timedelta(days=5), status="revoked"),
        security_event("CP-1", "FirmwareUpdated", now - timedelta(minutes=5)),
        security_event("CP-2", "<script>alert(1)</script>", now - timedelta(minutes=1), "x" * 500),
    )
    running_session(platform, "CP-1", "3", max(midnight, now - timedelta(minutes=10)))


def test_the_overview_counts_the_fleet(platform: Platform, client: TestClient) -> None:
    seed(platform)
    log_in(platform, client, "admin")
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1>") == 1
    assert figure(html, "stations") == "4"
    assert figure(html, "online") == "2"
    assert figure(html, "offline") == "2"
    assert figure(html, "faulted") == "1"
    assert figure(html, "sessions") == "1"
    # today: 4000 Wh finished + 1000 Wh so far in the running one (750 + 1000 - 500 ... = 1000)
    assert figure(html, "energy") == "5.0 kWh"
    assert figure(html, "certificates") == "1"
    assert 'href="/certificates?expiring=30"' in html
    assert '<td>wallbox-1</td><td>1.1.0</td><td class="num">2</td>' in html
    assert "<td>(no family)</td><td>(not reported)</td>" in html
    assert 'href="/security-events"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert html.index("&lt;script&gt;") < html.index("FirmwareUpdated")  # newest first


def test_the_figures_fragment_is_what_htmx_swaps(platform: Platform, client: TestClient) -> None:
    log_in(platform, client, "support")
    empty = client.get("/overview/figures")
    assert empty.status_code == 200
    assert "<html" not in empty.text and figure(empty.text, "stations") == "0"
    seed(platform)
    again = client.get("/overview/figures", headers={"HX-Request": "true"})
    assert figure(again.text, "stations") == "4"
    page = client.get("/")
    assert 'hx-get="/overview/figures"' in page.text and "data-live-any" in page.text


def test_manufacturing_lands_on_the_factory_and_cannot_read_the_figures(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "line@example.com", "manufacturing")
    assert post_login(client, "line@example.com").status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/factory"
    assert client.get("/overview/figures").status_code == 403


def test_a_visitor_is_sent_to_log_in(client: TestClient) -> None:
    answer = client.get("/overview/figures", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
