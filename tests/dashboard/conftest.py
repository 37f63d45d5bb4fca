"""Dashboard fixtures: the platform running (edge and API) and a real browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.dashboard.browser import chromium
from tests.e2e.conftest import RunningPlatform, started_platform


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(tmp_path, database_url) as started:
        yield started


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as started:
        yield started
