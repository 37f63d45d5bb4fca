"""Migration 0006: cards registered before it keep only the stations they are granted on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from app.migrate import upgrade


def test_existing_cards_are_limited_to_their_granted_stations(tmp_path: Path) -> None:
    # a plain engine: SQLite leaves foreign keys off, so grants need no devices here
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005_owners")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO id_tokens (value, type, status, created_at) VALUES "
                "('OWNERCARD', 'ISO14443', 'Accepted', '2026-01-01'), "
                "('FLEETCARD', 'ISO14443', 'Accepted', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO card_grants (id_token, station_serial, registered_by, created_at) "
                "VALUES ('OWNERCARD', 'SN-OLD-1', 'u1', '2026-01-01'), "
                "('OWNERCARD', 'SN-OLD-2', 'u1', '2026-01-01'), "
                "('GONECARD', 'SN-OLD-1', 'u1', '2026-01-01')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id_token, station_id FROM id_token_stations ORDER BY station_id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("OWNERCARD", "SN-OLD-1"), ("OWNERCARD", "SN-OLD-2")]
