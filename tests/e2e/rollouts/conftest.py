"""The running platform with a quick worker round, an admin's HTTP client, a fleet family."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RunningPlatform, started_platform
from tests.e2e.firmware_fleet import Admin
from tests.e2e.http import TIMEOUT
from tests.factories import admin_headers_http


@pytest.fixture
async def running(tmp_path: Path, database_url: str) -> AsyncIterator[RunningPlatform]:
    async with started_platform(tmp_path, database_url, rollout_interval=0.05) as started:
        yield started


@pytest.fixture
async def admin(running: RunningPlatform) -> AsyncIterator[Admin]:
    async with httpx.AsyncClient(base_url=running.api_url, timeout=TIMEOUT) as http:
        yield Admin(http, await admin_headers_http(running.platform, http))
