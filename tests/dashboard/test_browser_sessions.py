"""In Chromium: a station charges, its session page draws the curve and the curve grows live."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from playwright.async_api import Browser, expect
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform, basic
from tests.e2e.http import OPEN_TIMEOUT
from tests.e2e.stations import RawStation
from tests.factories import PASSWORD, make_user


@contextlib.asynccontextmanager
async def booted(running: RunningPlatform, station_id: str) -> AsyncIterator[RawStation]:
    """A booted OCPP 1.6 station (no owner, so the platform asks it nothing on connect)."""
    async with connect(
        f"{running.ocpp_url}/{station_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers=basic(station_id),
        open_timeout=OPEN_TIMEOUT,
    ) as ws:
        raw = RawStation(ws)
        reader = asyncio.create_task(raw.run())
        boot = {"chargePointVendor": "ACME", "chargePointModel": "W1"}
        assert (await raw.call("BootNotification", boot))["status"] == "Accepted"
        try:
            yield raw
        finally:
            reader.cancel()


def meter_values(tx_id: int, minute: int, wh: float, kw: float) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": tx_id,
        "meterValue": [
            {
                "timestamp": f"2026-11-21T10:{minute:02d}:00Z",
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": str(kw), "measurand": "Power.Active.Import", "unit": "kW"},
                ],
            }
        ],
    }


async def test_a_running_session_draws_its_curve_and_it_grows_with_new_meter_values(
    running: RunningPlatform, browser: Browser
) -> None:
    running.add_station("CP-LIVE")
    running.add_id_token("CARD-1")
    make_user(running.platform, "admin@example.com", "admin")
    async with booted(running, "CP-LIVE") as cp, opened(browser, running.api_url) as tab:
        start = {
            "connectorId": 1,
            "idTag": "CARD-1",
            "meterStart": 1000,
            "timestamp": "2026-11-21T10:00:00Z",
        }
        tx_id = (await cp.call("StartTransaction", start))["transactionId"]
        await cp.call("MeterValues", meter_values(tx_id, 5, 1_600, 7.2))
        await cp.call("MeterValues", meter_values(tx_id, 10, 2_200, 7.4))

        await tab.log_in("admin@example.com", PASSWORD)
        await tab.goto(f"/sessions/{tx_id}")
        await expect(tab.page.get_by_role("heading", level=1)).to_have_text(f"Session {tx_id}")
        curve = tab.page.locator("#curve")
        await expect(curve).to_have_attribute("data-drawn", "true")
        await expect(curve).to_have_attribute("data-points", "2")
        await expect(curve).to_have_attribute("data-series", "2")
        await expect(curve.locator("canvas")).to_have_count(1)
        await expect(tab.page.locator("#live-state")).to_have_attribute("data-state", "live")

        await cp.call("MeterValues", meter_values(tx_id, 15, 2_800, 7.1))
        await expect(curve).to_have_attribute("data-points", "3")
        await expect(tab.page.locator("#energy")).to_have_text("1.800 kWh so far")

        stop = {"transactionId": tx_id, "meterStop": 3_000, "timestamp": "2026-11-21T10:20:00Z"}
        await cp.call("StopTransaction", stop)
        await expect(tab.page.locator("#facts")).to_contain_text("finished")
        await expect(tab.page.locator("#energy")).to_have_text("2.000 kWh")
