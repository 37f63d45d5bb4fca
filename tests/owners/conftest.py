"""Fixtures of the owners' tests: a real SMTP server on loopback and a platform mailing to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.platform import Platform, build_platform
from app.settings import Settings
from common.clock import utcnow
from tests.conftest import make_settings
from tests.owners.helpers import Inbox, smtp_port, start_smtp


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_smtp()
    yield smtp_port(controller), inbox
    controller.stop()


@pytest.fixture
def inbox(smtp: tuple[int, Inbox]) -> Inbox:
    return smtp[1]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: tuple[int, Inbox]) -> Settings:
    return make_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=smtp[0])


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings)
    platform.ca.initialize(now=utcnow())
    yield platform
    platform.engine.dispose()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client
