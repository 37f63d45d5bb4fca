"""Schema migrations through Alembic, driven from code (``chargeline db upgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", "app:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def make_revision(url: str, message: str) -> None:
    """Autogenerate a migration from the tables (a developer's tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
