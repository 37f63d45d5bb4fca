"""Settings refuse default secrets; the CLI makes accounts and migrates the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlmodel import Session, select

from app.cli import main
from app.db import make_engine
from app.identity.tables import OAuthClient, User
from app.schema import metadata
from app.settings import Settings


def test_production_mode_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="CHARGELINE_SECRET_KEY must be set"):
        Settings(mode="production")


def test_production_mode_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(mode="production", secret_key="short")  # type: ignore[arg-type]


def test_settings_come_from_chargeline_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGELINE_API_PORT", "8123")
    monkeypatch.setenv("CHARGELINE_DATA_DIR", "/srv/chargeline")
    settings = Settings()
    assert settings.api_port == 8123
    assert settings.resolved_database_url == "sqlite:////srv/chargeline/chargeline.db"


def test_the_cli_refuses_production_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHARGELINE_MODE", "production")
    assert main(["db", "upgrade", "--data-dir", "/nonexistent"]) == 2
    assert "CHARGELINE_SECRET_KEY must be set" in capsys.readouterr().err


def test_create_user_makes_an_admin_who_can_log_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "admin",
            "create-user",
            "--data-dir",
            str(tmp_path),
            "--email",
            "Admin@Example.com",
            "--role",
            "admin",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "created user admin@example.com (admin)" in out
    password = out.split("password: ")[1].split()[0]
    engine = make_engine(f"sqlite:///{tmp_path / 'chargeline.db'}")
    with Session(engine) as session:
        user = session.exec(select(User)).one()
    from app.identity.secrets import verify_password

    assert user.role_list == ["admin"] and verify_password(password, user.password_hash)
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_refuses_a_short_password_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "admin",
            "create-user",
            "--data-dir",
            str(tmp_path),
            "--email",
            "a@example.com",
            "--role",
            "admin",
            "--password",
            "short",
        ]
    )
    assert code == 2 and "password must be 10-256 characters" in capsys.readouterr().err
    engine = make_engine(f"sqlite:///{tmp_path / 'chargeline.db'}")
    with Session(engine) as session:
        assert session.exec(select(User)).all() == []


def test_create_user_twice_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "admin",
        "create-user",
        "--data-dir",
        str(tmp_path),
        "--email",
        "a@example.com",
        "--role",
        "owner",
    ]
    assert main(args) == 0
    assert main(args) == 2
    assert "exists already" in capsys.readouterr().err


def test_an_unknown_role_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["admin", "create-user", "--email", "a@example.com", "--role", "root"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'root'" in capsys.readouterr().err


def test_create_client_prints_a_secret_that_is_stored_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "admin",
                "create-client",
                "--data-dir",
                str(tmp_path),
                "--name",
                "line-3",
                "--role",
                "manufacturing",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    secret = out.split("client_secret: ")[1].split()[0]
    engine = make_engine(f"sqlite:///{tmp_path / 'chargeline.db'}")
    with Session(engine) as session:
        client = session.exec(select(OAuthClient)).one()
    assert client.roles == "manufacturing" and secret not in client.secret_hash
    assert len(client.secret_hash) == 64


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata())
    engine.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_production_passwords_use_argon2id_at_the_rfc_9106_cost() -> None:
    from argon2 import extract_parameters

    from app.identity.secrets import production_hasher

    stored = production_hasher().hash("correct horse battery staple")
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.memory_cost == 65536 and parameters.time_cost == 3


def test_timestamps_read_back_from_sqlite_carry_utc(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from app.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with Session(engine) as session:
        session.add(OAuthClient(client_id="c1", name="n", secret_hash="h", roles="admin"))
        session.commit()
    with Session(engine) as session:
        created = session.exec(select(OAuthClient)).one().created_at
    engine.dispose()
    assert created.tzinfo is UTC and created <= datetime.now(UTC)
