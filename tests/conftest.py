"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when configured).

Every test that asks for ``platform`` runs once per backend: on SQLite always, and on the
PostgreSQL named by ``CHARGELINE_TEST_DATABASE_URL`` when it is set (CI sets it).
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.platform import Platform, build_platform
from app.schema import metadata
from app.settings import Settings
from tests.live import LiveServer
from tests.owner_helpers import Inbox, smtp_port, start_smtp

PG_URL = os.environ.get("CHARGELINE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
TEST_SECRET = "test-secret-0123456789-0123456789-abcdef"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id with 1 MiB and one pass for the test accounts.

    Users are made by the hundred here; at the production cost (64 MiB, 3 passes) hashing alone
    took minutes of the suite. The algorithm and code path stay the same, and
    ``tests/app/test_settings_and_cli.py`` checks the production parameters themselves.
    """
    from argon2 import PasswordHasher

    from app.identity import secrets as password_secrets
    from common.passwords import Argon2Passwords

    production = password_secrets._passwords
    password_secrets._passwords = Argon2Passwords(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    yield
    password_secrets._passwords = production


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    assert PG_URL is not None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata().sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "chargeline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    engine: Engine = request.getfixturevalue("postgres_engine")
    _truncate_all(engine)
    yield PG_URL or ""
    _truncate_all(engine)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mode": "production",
        "data_dir": tmp_path / "var",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "api_port": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings)
    yield platform
    platform.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform=platform)) as test_client:
        yield test_client


@pytest.fixture
def live_server(platform: Platform) -> Iterator[LiveServer]:
    """The API served by uvicorn on a free loopback port, for tests over real HTTP."""
    with LiveServer(create_app(platform=platform)) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on loopback: its port and the inbox of what it received."""
    controller, inbox = start_smtp()
    yield smtp_port(controller), inbox
    controller.stop()


@pytest.fixture
def inbox(smtp: tuple[int, Inbox]) -> Inbox:
    return smtp[1]


REDIS_URL = os.environ.get("CHARGELINE_TEST_REDIS_URL")
"""The Redis the ``redis``-marked tests use; they skip, saying why, when it is unset or down."""


@functools.cache
def _redis_missing() -> str | None:
    if REDIS_URL is None:
        return "needs Redis: set CHARGELINE_TEST_REDIS_URL (.ci/run starts one)"
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return f"needs Redis: CHARGELINE_TEST_REDIS_URL={REDIS_URL} does not answer ({exc})"
    finally:
        client.close()
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``postgres``-marked tests without PostgreSQL, ``redis``-marked ones without Redis."""
    if item.get_closest_marker("postgres") is not None and PG_URL is None:
        pytest.skip("needs PostgreSQL: set CHARGELINE_TEST_DATABASE_URL (.ci/run does)")
    if item.get_closest_marker("redis") is not None and (reason := _redis_missing()):
        pytest.skip(reason)
