"""``chargeline devices``: families, MAC ranges, registration and CSV import on the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.cli import main
from app.db import make_engine
from enrollment.tables import DeviceRow


def run(tmp_path: Path, *args: str) -> int:
    return main(["devices", *args, "--data-dir", str(tmp_path)])


@pytest.fixture
def stocked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    family = ["--name", "wb", "--vendor", "ACME", "--model", "W", "--ocpp-version", "1.6"]
    assert run(tmp_path, "add-family", *family) == 0
    assert run(tmp_path, "add-mac-range", "02:00:00:00:00:00-02:00:00:00:00:03") == 0
    assert capsys.readouterr().out == (
        "added hardware family wb\nadded 4 addresses to the MAC pool\n"
    )
    return tmp_path


def test_register_prints_the_mac_and_the_codes_once(
    stocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["register", "--serial", "cl-1", "--family", "wb", "--lot", "L1"]
    assert run(stocked, *args) == 0
    first = capsys.readouterr().out
    assert first.startswith("registered CL-1: MAC 02:00:00:00:00:00, lot L1\ndevice code:    ")
    assert run(stocked, *args) == 0
    assert capsys.readouterr().out == "already registered CL-1: MAC 02:00:00:00:00:00, lot L1\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--serial", "c l", "--family", "wb", "--lot", "L"],
            "serial number has ' ' at position 2",
        ),
        (["--serial", "CL-1", "--family", "no", "--lot", "L"], "unknown hardware family 'no'"),
        (["--serial", "CL-1", "--family", "wb", "--lot", "L", "--metadata", "[1]"], "metadata mu"),
        (["--serial", "CL-1", "--family", "wb", "--lot", "L", "--metadata", "{"], "Expecting"),
    ],
)
def test_register_refuses_bad_input_with_the_reason(
    stocked: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(stocked, "register", *args) == 1
    notice, error = capsys.readouterr().err.split("\n", 1)  # every command names its database
    assert notice.startswith("chargeline: using database ")
    assert error.startswith(f"chargeline: {message}")


def test_import_shows_progress_row_errors_and_a_summary(
    stocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = stocked / "lot.csv"
    csv_file.write_text("serial,family,lot\nCL-1,wb,L\nbad serial,wb,L\nCL-2,wb,L\n")
    assert run(stocked, "import", str(csv_file)) == 1
    captured = capsys.readouterr()
    assert captured.err.endswith("rows 3/3\n")
    assert captured.out.splitlines() == [
        "line 3: bad_serial: serial number has ' ' at position 4; only letters A-Z, digits, "
        "'.' and '-' are allowed",
        "3 rows: 2 created, 0 existing, 0 duplicate, 1 errors",
    ]
    engine = make_engine(f"sqlite:///{stocked / 'chargeline.db'}")
    with Session(engine) as session:
        assert [d.serial for d in session.exec(select(DeviceRow)).all()] == ["CL-1", "CL-2"]
    engine.dispose()


def test_import_refuses_a_missing_or_broken_file(
    stocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(stocked, "import", str(stocked / "nope.csv")) == 1
    assert "cannot read" in capsys.readouterr().err
    broken = stocked / "broken.csv"
    broken.write_bytes(b"serial,family\n")
    assert run(stocked, "import", str(broken)) == 1
    assert capsys.readouterr().err == (
        f"chargeline: using database sqlite:///{stocked / 'chargeline.db'}\n"
        f"chargeline: {broken}: missing_columns: missing columns: lot\n"
    )


def test_add_mac_range_refuses_an_overlap(
    stocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(stocked, "add-mac-range", "02:00:00:00:00:03-02:00:00:00:00:09") == 1
    assert (
        "overlaps the pool's range 02:00:00:00:00:00-02:00:00:00:00:03" in capsys.readouterr().err
    )
