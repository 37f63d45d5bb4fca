"""The CLI run outside the repository: it names its database and makes no second ``./var``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "app.cli"]
REPO = Path(__file__).resolve().parents[2]


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_command_in_a_strange_directory_refuses_to_make_a_database(tmp_path: Path) -> None:
    database = tmp_path / "var" / "chargeline.db"
    add = ("stations", "add", "CP-1", "--password", "station-password-0001")

    refused = _run(tmp_path, *add)

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"chargeline: using database sqlite:///{database}",
        f"chargeline: no database at sqlite:///{database}. Run the command where the "
        "platform's data directory is, point to it with --data-dir or --database-url, or pass "
        "--create to make a new one here",
    ]
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "var").exists()

    listed = _run(tmp_path, "stations", "list")
    assert listed.returncode == 2 and "no database at" in listed.stderr
    assert not (tmp_path / "var").exists()

    created = _run(tmp_path, *add, "--create")
    assert created.returncode == 0, created.stderr
    assert created.stderr == f"chargeline: using database sqlite:///{database}\n"
    assert database.exists()

    again = _run(tmp_path, "stations", "list")  # now there is one: no flag needed
    assert again.returncode == 0, again.stderr
    assert again.stderr == f"chargeline: using database sqlite:///{database}\n"
    assert again.stdout.splitlines()[1].startswith("CP-1 ")


def test_db_upgrade_makes_the_database_and_says_where(tmp_path: Path) -> None:
    upgraded = _run(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    database = tmp_path / "var" / "chargeline.db"
    assert upgraded.stderr == f"chargeline: using database sqlite:///{database}\n"
    assert database.exists()


def test_a_named_data_directory_is_asked_for(tmp_path: Path) -> None:
    elsewhere = tmp_path / "site"
    made = _run(
        tmp_path,
        "admin",
        "create-user",
        "--email",
        "a@example.com",
        "--role",
        "admin",
        "--data-dir",
        str(elsewhere),
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr == f"chargeline: using database sqlite:///{elsewhere / 'chargeline.db'}\n"
    assert not (tmp_path / "var").exists()
