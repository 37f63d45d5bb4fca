"""In Chromium: "Sign in with ..." through a real OIDC provider on loopback into the overview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from oidc_provider_mock import User
from playwright.async_api import Browser, Route, expect

from tests.dashboard.browser import opened
from tests.dashboard.oidc_provider import running_provider
from tests.e2e.conftest import RunningPlatform, started_platform

ADA = User(sub="ada", claims={"email": "ada@example.com", "groups": ["chargeline-admins"]})


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    with running_provider([ADA]) as provider:
        async with started_platform(
            tmp_path,
            database_url,
            oidc_issuer=provider.url,
            oidc_client_id="chargeline-dashboard",
            oidc_client_secret="client-secret-of-the-dashboard",
            dashboard_sso_name="Example ID",
            oidc_role_map={"chargeline-admins": "admin"},
        ) as started:
            yield started


async def no_stylesheet(route: Route) -> None:
    """The provider's page links a CDN stylesheet; tests run offline."""
    await route.fulfill(status=200, content_type="text/css", body="")


async def test_an_admin_signs_in_with_the_provider_and_sees_the_live_overview(
    running: RunningPlatform, browser: Browser
) -> None:
    async with opened(browser, running.api_url) as tab:
        await tab.page.context.route("https://cdn.jsdelivr.net/**", no_stylesheet)
        await tab.goto("/")
        await expect(tab.page).to_have_url(f"{running.api_url}/login")
        await tab.page.get_by_role("link", name="Sign in with Example ID").click()
        await expect(tab.page.get_by_role("heading", name="Authorize Client")).to_be_visible()
        await tab.page.get_by_role("button", name="ada", exact=True).click()
        await expect(tab.page).to_have_url(f"{running.api_url}/")
        await expect(tab.page.get_by_role("heading", level=1)).to_have_text("Overview")
        await expect(tab.page.get_by_text("ada@example.com")).to_be_visible()
        await expect(tab.page.locator("#live-state")).to_have_attribute("data-state", "live")
        await tab.page.get_by_role("button", name="Log out").click()
        await expect(tab.page).to_have_url(f"{running.api_url}/login")
