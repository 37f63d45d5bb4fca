"""Fixtures for tests of mail-sending features: a platform with its CA, mailing to the real
SMTP server of the ``smtp`` fixture. A test directory takes them into its conftest with
``from tests.mailing import platform, settings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform import Platform, build_platform
from app.settings import Settings
from common.clock import utcnow
from tests.conftest import make_settings
from tests.owner_helpers import Inbox


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: tuple[int, Inbox]) -> Settings:
    return make_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=smtp[0])


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings)
    platform.ca.initialize(now=utcnow())
    yield platform
    platform.close()
