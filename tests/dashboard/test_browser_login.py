"""In Chromium: an admin logs in, the overview opens its live events socket, logout ends it."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform
from tests.factories import PASSWORD, make_user


async def test_an_admin_logs_in_sees_the_live_overview_and_logs_out(
    running: RunningPlatform, browser: Browser
) -> None:
    make_user(running.platform, "admin@example.com", "admin")
    async with opened(browser, running.api_url) as tab:
        await tab.goto("/")
        await expect(tab.page).to_have_url(f"{running.api_url}/login")
        await tab.log_in("admin@example.com", PASSWORD)
        await expect(tab.page.get_by_role("heading", level=1)).to_have_text("Overview")
        await expect(tab.page.locator("#live-state")).to_have_attribute("data-state", "live")
        await tab.page.get_by_role("button", name="Log out").click()
        await expect(tab.page).to_have_url(f"{running.api_url}/login")
        await tab.goto("/")
        await expect(tab.page).to_have_url(f"{running.api_url}/login")
