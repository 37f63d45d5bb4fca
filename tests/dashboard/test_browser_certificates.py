"""In Chromium: an admin revokes a connected station's certificate and sees the station drop."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

from playwright.async_api import Browser, expect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pki import KeyKind
from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform
from tests.e2e.http import OPEN_TIMEOUT
from tests.e2e.stations import RawStation
from tests.e2e.tls import enrol
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user

STATION = "CP-CERT-1"


async def test_an_admin_revokes_a_certificate_and_sees_the_station_drop(
    running: RunningPlatform, browser: Browser, tmp_path: Path
) -> None:
    platform = running.platform
    running.add_station(STATION, profile=2)
    keys = enrol(platform.ca, tmp_path, STATION, KeyKind.EC_P256)
    root = tmp_path / "root.pem"
    root.write_text(platform.ca.root_pem())
    context = ssl.create_default_context(cafile=root)
    context.load_cert_chain(keys.chain, keys.key)
    make_user(platform, "admin@example.com", "admin")
    url = f"wss://127.0.0.1:{running.edge.ocpp_tls_port}/ocpp/{STATION}"
    async with connect(url, subprotocols=["ocpp1.6"], ssl=context, open_timeout=OPEN_TIMEOUT) as ws:
        station = RawStation(ws)
        reader = asyncio.create_task(station.run())
        boot = {"chargePointVendor": "ACME", "chargePointModel": "W1"}
        assert (await station.call("BootNotification", boot))["status"] == "Accepted"
        await eventually(lambda: running.edge.gateway.is_connected(STATION))
        async with opened(browser, running.api_url) as tab:
            await tab.log_in("admin@example.com", PASSWORD)
            page = tab.page
            watcher = await page.context.new_page()  # a second tab, left open, never reloaded
            await watcher.goto(f"{running.api_url}/certificates/{keys.serial_hex}")
            await expect(watcher.locator("#live-state")).to_have_attribute("data-state", "live")
            watched = watcher.locator("#station-state [data-station-state]")
            await expect(watched).to_have_text("online")

            await tab.goto("/certificates?station=" + STATION)
            await page.get_by_role("link", name=keys.serial_hex).click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text(keys.serial_hex)
            await expect(page.locator("#certificate-state")).to_have_text("valid")
            await page.get_by_label("Reason (RFC 5280)").select_option("keyCompromise")
            await page.get_by_label("Yes, revoke it").check()
            await page.get_by_role("button", name="Revoke").click()

            await expect(page.locator("#certificate-state")).to_have_text("revoked")
            await expect(page.locator(".flash.ok")).to_contain_text("is revoked")
            await expect(page.locator("#station-state [data-station-state]")).to_have_text(
                "offline"
            )
            await expect(watched).to_have_text("offline")  # live, without reloading
            await watcher.close()
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait_for(reader, timeout=10)
        assert ws.close_code == 1008 and ws.close_reason == "certificate revoked"
