"""In Chromium: an admin watches a station come online, then starts and stops a remote session
from the station's page, with the station's answers and the session shown live, and sees the
station go offline when it hangs up."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform
from tests.e2e.stations import station
from tests.factories import PASSWORD, make_user


def energy(at: str, wh: int) -> dict[str, object]:
    return {
        "timestamp": at,
        "sampledValue": [
            {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        ],
    }


async def test_an_admin_starts_and_stops_a_remote_session_on_a_live_station(
    running: RunningPlatform, browser: Browser
) -> None:
    make_user(running.platform, "admin@example.com", "admin")
    running.add_station("CP-B1")
    running.add_id_token("CARD-1")
    async with opened(browser, running.api_url) as tab:
        page = tab.page
        await tab.log_in("admin@example.com", PASSWORD)
        await tab.goto("/stations")
        await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
        row = page.locator('tr[data-station="CP-B1"]')
        await expect(row).to_contain_text("offline")
        overview = await page.context.new_page()  # a second tab on the overview
        overview.on("pageerror", lambda error: tab.errors.append(str(error)))
        await overview.goto(f"{running.api_url}/")
        await expect(overview.locator("#live-state")).to_have_attribute("data-state", "live")
        online = overview.locator('[data-figure="online"] .value')
        await expect(online).to_have_text("0")

        async with station(running, "CP-B1", synced=False, firmware="2.0") as raw:
            await expect(row).to_contain_text("online")  # no reload: the boot event refreshed it
            await expect(row).to_contain_text("W1")
            await expect(online).to_have_text("1")
            await expect(overview.locator('[data-figure="offline"] .value')).to_have_text("0")
            await overview.close()
            await row.get_by_role("link", name="CP-B1").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Station CP-B1")

            await page.get_by_label("Id token", exact=True).fill("CARD-1")
            await page.get_by_role("button", name="Start", exact=True).click()
            answer = page.locator("#command-answer")
            await expect(answer).to_contain_text("Start charging: Accepted")
            [asked] = raw.calls("RemoteStartTransaction")
            assert asked["idTag"] == "CARD-1"

            start = {
                "connectorId": 1,
                "idTag": "CARD-1",
                "meterStart": 1000,
                "timestamp": "2026-11-21T10:00:00Z",
            }
            tx_id = (await raw.call("StartTransaction", start))["transactionId"]
            values = {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [energy("2026-11-21T10:10:00Z", 2200)],
            }
            await raw.call("MeterValues", values)
            session_row = page.locator(f'#station-sessions tr[data-session="{tx_id}"]')
            await expect(session_row).to_contain_text("charging")
            link = session_row.get_by_role("link", name=str(tx_id))
            await expect(link).to_have_attribute("href", f"/sessions/{tx_id}")

            await session_row.get_by_role("button", name=f"Stop session {tx_id}").click()
            await expect(answer).to_contain_text("Stop charging: Accepted")
            [stop_asked] = raw.calls("RemoteStopTransaction")
            assert stop_asked["transactionId"] == tx_id
            stop = {"transactionId": tx_id, "meterStop": 3500, "timestamp": "2026-11-21T10:20:00Z"}
            await raw.call("StopTransaction", stop)
            await expect(session_row).to_contain_text("ended")
            await expect(session_row).to_contain_text("2.500")  # kWh
            await expect(page.locator("#station-connectors")).to_contain_text("online")
        # the station hung up: its page says so without a reload (the socket's presence news)
        await expect(page.locator("#station-connectors")).to_contain_text("offline")
