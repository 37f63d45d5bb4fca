"""`chargeline stations|devices|transactions list` via the CLI entry point, on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cli import main
from app.db import make_engine
from charging.tables import Transaction


@pytest.fixture
def cli(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--data-dir", str(tmp_path), "--database-url", database_url])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _stations(cli) -> None:  # type: ignore[no-untyped-def]
    for n in (3, 1, 2):
        code, _, err = cli("stations", "add", f"CP-{n}", "--password", "station-password-0001")
        assert code == 0, err


def test_stations_list_prints_a_table_in_pages(cli) -> None:  # type: ignore[no-untyped-def]
    _stations(cli)
    code, out, err = cli("stations", "list", "--limit", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID",
        "PROFILE",
        "OCPP",
        "VENDOR",
        "MODEL",
        "FIRMWARE",
        "ONLINE",
        "LAST_SEEN",
    ]
    assert [line.split()[0] for line in lines[1:3]] == ["CP-1", "CP-2"]
    assert lines[1].split() == ["CP-1", "1", "-", "-", "-", "-", "no", "-"]
    assert lines[3] == "(1-2 of 3; --offset 2 for more)"
    code, out, _ = cli("stations", "list", "--limit", "2", "--offset", "2")
    assert [line.split()[0] for line in out.splitlines()[1:-1]] == ["CP-3"]
    assert out.splitlines()[-1] == "(3-3 of 3)"
    assert "chargeline: using database " in err


def test_stations_list_as_json(cli) -> None:  # type: ignore[no-untyped-def]
    _stations(cli)
    code, out, _ = cli("stations", "list", "--json", "--offset", "1")
    assert code == 0
    body = json.loads(out)
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 1)
    assert [s["id"] for s in body["items"]] == ["CP-2", "CP-3"]
    assert body["items"][0]["profile"] == 1 and body["items"][0]["online"] is False


def test_devices_list_shows_family_lot_state_and_mac(cli) -> None:  # type: ignore[no-untyped-def]
    family = ["--name", "wb", "--vendor", "ACME", "--model", "W", "--ocpp-version", "1.6"]
    assert cli("devices", "add-family", *family)[0] == 0
    assert cli("devices", "add-mac-range", "02:00:00:00:00:00-02:00:00:00:00:03")[0] == 0
    for serial, lot in (("cl-2", "L1"), ("cl-1", "L1"), ("cl-3", "L2")):
        assert (
            cli("devices", "register", "--serial", serial, "--family", "wb", "--lot", lot)[0] == 0
        )
    code, out, _ = cli("devices", "list", "--lot", "L1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SERIAL", "FAMILY", "LOT", "STATE", "MAC", "CREATED"]
    assert [line.split()[:5] for line in lines[1:3]] == [
        ["CL-1", "wb", "L1", "registered", "02:00:00:00:00:01"],
        ["CL-2", "wb", "L1", "registered", "02:00:00:00:00:00"],
    ]
    assert lines[3] == "(1-2 of 2)"
    body = json.loads(cli("devices", "list", "--json", "--limit", "1")[1])
    assert body["total"] == 3 and [d["serial"] for d in body["items"]] == ["CL-1"]


def test_transactions_list_is_newest_first_and_filters(cli, database_url: str) -> None:  # type: ignore[no-untyped-def]
    _stations(cli)
    engine = make_engine(database_url)
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            Transaction(
                transaction_ref="t-1",
                station_id="CP-1",
                evse_id=1,
                id_token="CARD-1",
                started_at=start,
                ended_at=start.replace(hour=9),
                energy_wh=7400.0,
                state="ended",
                stop_reason="Local",
            )
        )
        session.add(
            Transaction(
                transaction_ref="t-2",
                station_id="CP-2",
                evse_id=1,
                id_token="CARD-2",
                started_at=start.replace(hour=10),
                state="active",
            )
        )
        session.commit()
    engine.dispose()
    code, out, _ = cli("transactions", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["ID", "STATION", "EVSE", "ID_TOKEN", "STATE", "STARTED"]
    assert [line.split()[1] for line in lines[1:3]] == ["CP-2", "CP-1"]
    assert "2025-03-01 09:00:00  7400.0" in lines[2]
    body = json.loads(cli("transactions", "list", "--json", "--state", "ended")[1])
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["station"], item["energy_wh"], item["stop_reason"]) == ("CP-1", 7400.0, "Local")
    assert item["started"].startswith("2025-03-01T08:00:00")
    body = json.loads(cli("transactions", "list", "--json", "--station", "CP-2")[1])
    assert [t["id_token"] for t in body["items"]] == ["CARD-2"]


def test_paging_flags_are_checked(cli, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_info:
        cli("stations", "list", "--limit", "0")
    assert exit_info.value.code == 2
    assert "--limit: must be 1-1000" in capsys.readouterr().err
