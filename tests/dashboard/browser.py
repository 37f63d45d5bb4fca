"""A real browser for the dashboard tests: Debian's Chromium driven by Playwright.

Nothing is downloaded: Playwright starts the system's ``chromium`` (``.ci/run`` installs it
with apt when it is missing). Every page a test opens records console errors and uncaught
exceptions (a Content-Security-Policy violation is one); :func:`opened` fails the test on any.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError("Chromium is missing: `apt-get install chromium` (.ci/run does)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Tab:
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def log_in(self, email: str, password: str) -> None:
        await self.goto("/login")
        await self.page.get_by_label("E-mail address").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Log in").click()
        await self.page.wait_for_url(lambda url: "/login" not in url)


@contextlib.asynccontextmanager
async def opened(browser: Browser, base_url: str, *, javascript: bool = True) -> AsyncIterator[Tab]:
    """A fresh browser context (no cookies) with one tab; fails on any page error.

    ``javascript=False``: a browser with scripts off, as the pages must work without them.
    """
    context = await browser.new_context(
        viewport={"width": 1400, "height": 900}, java_script_enabled=javascript
    )
    context.set_default_timeout(20_000)
    page = await context.new_page()
    tab = Tab(page, base_url)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.errors.append(message.text)

    def failed(error: Error) -> None:
        tab.errors.append(str(error))

    page.on("console", console)
    page.on("pageerror", failed)
    try:
        yield tab
    finally:
        await context.close()
    assert not tab.errors, tab.errors
