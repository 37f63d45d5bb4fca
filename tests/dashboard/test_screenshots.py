"""Each main page in Chromium with a little of everything in the database, photographed.

The pages must render (their heading shows, no console error or CSP violation) with a station
charging live, a factory lot, firmware images and the audit trail all that makes; each has one
``h1`` and a label for every field; and with scripts off every page still shows and a command
form still gets the station's answer.
``make screenshots`` runs this with ``CHARGELINE_SCREENSHOTS=docs/screenshots``: the README shows
those files. Without it the pictures go to the test's temporary directory.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from common.clock import utcnow
from tests.app.factory_line import device_body, stock_line
from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform
from tests.e2e.firmware_fleet import add_family, add_image
from tests.e2e.http import api_client
from tests.e2e.stations import station
from tests.factories import PASSWORD, make_user

PAGES: tuple[tuple[str, str, str], ...] = (
    ("overview", "/", "Overview"),
    ("stations", "/stations", "Stations"),
    ("station", "/stations/SIM-0001", "SIM-0001"),
    ("sessions", "/sessions", "Sessions"),
    ("session", "/sessions/1", "Session"),
    ("factory", "/factory", "Factory"),
    ("certificates", "/certificates", "Certificates"),
    ("firmware", "/firmware", "Firmware"),
    ("audit", "/audit", "Audit log"),
    ("security-events", "/security-events", "Security events"),
)


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
    .filter((e) => !["hidden", "submit", "button"].includes(e.type))
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
    .map((e) => e.name || e.id || e.outerHTML.slice(0, 80))"""
"""The fields of a page that no label names (JavaScript run in the page)."""


def sample(at: str, wh: float, kw: float) -> dict[str, Any]:
    return {
        "timestamp": at,
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": f"{kw:.2f}", "measurand": "Power.Active.Import", "unit": "kW"},
        ],
    }


def stamp(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def seed_factory(running: RunningPlatform, token: str) -> None:
    stock_line(running.platform)
    async with api_client(running.api_url) as http:
        for n in range(1, 6):
            answer = await http.post(
                "/api/v1/devices",
                json=device_body(f"WB2-{n:06d}", lot="LOT-2026-48"),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code in (200, 201), answer.text


async def admin_token(running: RunningPlatform) -> str:
    async with api_client(running.api_url) as http:
        answer = await http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "admin@example.com", "password": PASSWORD},
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


async def test_each_main_page_renders_in_chromium_and_is_photographed(
    running: RunningPlatform, browser: Browser, tmp_path: Path
) -> None:
    out = Path(os.environ.get("CHARGELINE_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    make_user(running.platform, "admin@example.com", "admin")
    await seed_factory(running, await admin_token(running))
    family = add_family(running.platform, "wallbox-11")
    for version in ("1.4.2", "1.5.0"):
        add_image(running.platform, family, version)
    for station_id in ("SIM-0001", "SIM-0002"):
        running.add_station(station_id)
    running.add_id_token("CARD-0001")
    async with station(running, "SIM-0001", synced=False, firmware="1.4.2") as sim:
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        await sim.call("StatusNotification", status)
        start = {"connectorId": 1, "idTag": "CARD-0001", "meterStart": 0, "timestamp": stamp(60)}
        tx = (await sim.call("StartTransaction", start))["transactionId"]
        energy = 0.0
        for minute in range(60, 0, -5):
            kw = 11.0 if minute > 20 else 11.0 * minute / 20
            energy += round(kw * 1000 * 5 / 60)
            await sim.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx,
                    "meterValue": [sample(stamp(minute), energy, kw)],
                },
            )
        async with opened(browser, running.api_url) as tab:
            await tab.log_in("admin@example.com", PASSWORD)
            for name, path, heading in PAGES:
                await tab.goto(path)
                await expect(tab.page.get_by_role("heading", level=1)).to_contain_text(heading)
                await tab.page.screenshot(path=out / f"{name}.png", full_page=True)
                assert await tab.page.locator("h1").count() == 1, path
                assert await tab.page.evaluate(UNLABELLED) == [], path
        async with opened(browser, running.api_url, javascript=False) as plain:
            await plain.log_in("admin@example.com", PASSWORD)
            for _name, path, heading in PAGES:
                await plain.goto(path)
                await expect(plain.page.get_by_role("heading", level=1)).to_contain_text(heading)
            await plain.goto("/stations/SIM-0001")
            await plain.page.get_by_role("button", name="Reset", exact=True).click()
            answer = plain.page.locator(".answer-status")
            await expect(answer).to_have_text("Accepted")
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{n}.png" for n, _, _ in PAGES)
