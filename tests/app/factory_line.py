"""Helpers shared by the factory-line API tests (no tests of its own)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.platform import Platform
from enrollment import repository
from enrollment.identifiers import MacRange
from tests.factories import bearer, make_client

FAMILY = "wallbox-2"
RANGE = "02:00:00:00:00:00-02:00:00:00:00:FF"


def stock_line(platform: Platform, mac_range: str = RANGE, family: str = FAMILY) -> None:
    """A hardware family and a MAC range, straight through the repository."""
    with Session(platform.engine) as session:
        repository.add_family(
            session,
            name=family,
            vendor="Chargeline",
            model="WB2",
            ocpp_version="2.0.1",
            default_channel="stable",
        )
        repository.add_mac_range(session, MacRange.parse(mac_range))
        session.commit()


def line_headers(
    platform: Platform, client: TestClient, role: str = "manufacturing"
) -> dict[str, str]:
    issued = make_client(platform, role, name=f"line-{role}")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def device_body(serial: str, lot: str = "LOT-1", **extra: object) -> dict[str, object]:
    return {"serial": serial, "family": FAMILY, "lot": lot, **extra}
