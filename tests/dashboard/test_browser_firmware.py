"""In Chromium, with the rollout worker running: an admin starts a rollout of a signed image to
three simulated stations from the form, pauses and resumes it, and watches the progress page
advance to the end without reloading it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from app.roles import running_worker
from common.clock import utcnow
from tests.dashboard.browser import opened
from tests.e2e.conftest import RunningPlatform, started_platform
from tests.e2e.firmware_fleet import (
    Behaviour,
    FakeDownloads,
    UpdatingStation,
    add_family,
    add_field_stations,
    add_image,
    living,
)
from tests.eventually import eventually
from tests.factories import PASSWORD, make_user


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(tmp_path, database_url, rollout_interval=0.05) as started:
        yield started


async def test_an_admin_starts_a_rollout_pauses_it_and_watches_it_complete(
    running: RunningPlatform, browser: Browser
) -> None:
    platform = running.platform
    family_id = add_family(platform, "wb")
    ids = ["B-1", "B-2", "B-3"]
    add_field_stations(platform, "wb", ids)
    add_image(platform, family_id, "2.0.0")
    make_user(platform, "admin@example.com", "admin")
    hold = asyncio.Event()  # the stations take the update but report nothing until it is set
    stations = [
        UpdatingStation(running.ocpp_url, s, "1.0.0", behaviour=Behaviour(hold=hold)) for s in ids
    ]
    async with living(stations), running_worker(platform, locations=FakeDownloads()):
        await eventually(lambda: all(s.boots for s in stations), timeout=60)
        async with opened(browser, running.api_url) as tab:
            page = tab.page
            await tab.log_in("admin@example.com", PASSWORD)
            await tab.goto("/firmware")
            await page.get_by_role("link", name="New rollout").click()
            await page.get_by_label("Name").fill("wb to 2.0.0")
            await page.get_by_label("Image", exact=True).select_option(label="2.0.0 (wb)")
            await page.get_by_label("Wave sizes").fill("1, 2")
            await expect(page.get_by_label("Start at once")).to_be_checked()
            await page.get_by_role("button", name="Create rollout").click()

            await expect(page.get_by_role("heading", level=1)).to_have_text("Rollout wb to 2.0.0")
            state = page.locator(".rollout-state .badge")
            await expect(state).to_have_text("running")
            await page.get_by_role("button", name="Pause").click()
            await expect(page.get_by_text("The rollout is paused.")).to_be_visible()
            await expect(state).to_have_text("paused")
            await page.get_by_role("button", name="Resume").click()
            await expect(state).to_have_text("running")

            await page.evaluate("window.notReloaded = true")
            hold.set()
            await expect(state).to_have_text("succeeded", timeout=30_000)
            await expect(
                page.get_by_role("status").filter(has_text="Rollout succeeded")
            ).to_have_text("Rollout succeeded: 3 of 3 station(s) finished, 3 succeeded, 0 failed.")
            await expect(
                page.get_by_text("3 of 3 station(s) finished (3 succeeded")
            ).to_be_visible()
            await expect(page.locator('[data-station-state="succeeded"]')).to_have_count(3)
            await expect(page.locator("#rollout-bar")).to_have_attribute("value", "3")
            assert await page.evaluate("window.notReloaded === true")
            await expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert all(s.version == "2.0.0" for s in stations)


async def test_an_admin_uploads_an_image_verifies_it_and_puts_it_on_a_channel(
    running: RunningPlatform, browser: Browser, tmp_path: Path
) -> None:
    platform = running.platform
    platform.ca.initialize(now=utcnow())
    add_family(platform, "wb")
    make_user(platform, "admin@example.com", "admin")
    image = tmp_path / "fw-3.0.0.bin"
    image.write_bytes(bytes(range(256)) * 4096)
    async with opened(browser, running.api_url) as tab:
        page = tab.page
        await tab.log_in("admin@example.com", PASSWORD)
        await tab.goto("/firmware")
        await page.get_by_role("link", name="Upload an image").click()
        await page.get_by_label("Family").select_option("wb")
        await page.get_by_label("Version").fill("3.0.0")
        await page.get_by_label("Image file").set_input_files(image)
        await page.get_by_role("button", name="Upload and verify").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Firmware 3.0.0 (wb)")
        await expect(page.get_by_text("The image is verified and stored.")).to_be_visible()
        await expect(page.get_by_text("1048576 bytes")).to_be_visible()
        await page.get_by_role("button", name="Verify again now").click()
        await expect(page.locator("#verification")).to_contain_text("the signature is valid")
        await page.get_by_label("Channel", exact=True).select_option("beta")
        await page.get_by_role("button", name="Put on the channel").click()
        await expect(page.get_by_text("The image is on the channel now.")).to_be_visible()
        await tab.goto("/firmware")
        beta = page.get_by_role("row").filter(has_text="beta")
        await expect(beta.get_by_role("link", name="3.0.0")).to_be_visible()
