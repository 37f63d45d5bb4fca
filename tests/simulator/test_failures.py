"""A misbehaving server or bad options are reported clearly, with a failing exit code."""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path

import pytest

from app.cli import build_parser
from app.cli.simulate import run
from simulator.fleet import FleetConfig, SimulatorError, read_password_file, run_fleet
from tests.gateway.conftest import PASSWORD, RunningGateway
from tests.simulator.fleet import eventually, one_station


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


async def test_a_wrong_password_is_reported_as_a_refused_handshake(
    gateway: RunningGateway,
) -> None:
    report = await run_fleet(
        FleetConfig(url=gateway.url, stations=1, password="wrong-password-123456")
    )
    assert not report.ok
    assert report.stations[0].error == "handshake refused: HTTP 401 wrong password"
    assert "SIM-0001: handshake refused: HTTP 401" in report.summary()


async def test_an_unknown_station_is_reported_with_the_404(gateway: RunningGateway) -> None:
    report = await run_fleet(FleetConfig(url=gateway.url, stations=1, first=99, password=PASSWORD))
    assert report.stations[0].error == "handshake refused: HTTP 404 unknown station"


async def test_no_server_at_all_is_a_connection_failure() -> None:
    report = await run_fleet(FleetConfig(url="ws://127.0.0.1:9", stations=2, password=PASSWORD))
    assert len(report.failed) == 2
    error = report.stations[0].error or ""
    assert error.startswith("cannot connect to ws://127.0.0.1:9/ocpp/SIM-0001")


async def test_a_server_that_closes_the_connection_fails_the_station(
    gateway: RunningGateway,
) -> None:
    reports = []
    async with one_station(gateway, "1.6") as station:
        assert await gateway.gateway.disconnect("SIM-0001", "certificate revoked")
        await eventually(lambda: station.report.error is not None)
        reports.append(station.report)
    assert reports[0].error == "the server closed the connection (code 1008 certificate revoked)"


async def test_the_cli_exits_1_when_stations_fail(gateway: RunningGateway) -> None:
    out = io.StringIO()
    args = _args("--url", gateway.url, "--stations", "2", "--password", "wrong-password-123456")
    code = await asyncio.to_thread(run, args, out, io.StringIO())
    assert code == 1
    assert "0/2 stations ok" in out.getvalue()
    assert "SIM-0002: handshake refused: HTTP 401 wrong password" in out.getvalue()


async def test_the_cli_exits_0_and_prints_progress_when_all_is_well(
    gateway: RunningGateway,
) -> None:
    out = io.StringIO()
    args = _args(
        "--url",
        gateway.url,
        "--stations",
        "2",
        "--protocol",
        "2.0.1",
        "--password",
        PASSWORD,
        "--speed",
        "1000",
        "--session-length",
        "120",
    )
    code = await asyncio.to_thread(run, args, out, io.StringIO())
    assert code == 0, out.getvalue()
    assert out.getvalue().startswith("2/2 stations ok, 2 sessions finished")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://x"], "the URL must start with ws:// or wss://, not 'http://x'"),
        (["--stations", "0"], "at least one station is needed"),
        (["--speed", "0"], "speed and meter interval must be positive"),
        (["--ca-file", "ca.pem"], "--ca-file and --cert need a wss:// URL"),
        (["--url", "wss://h", "--cert", "c.pem"], "--cert and --key go together"),
        (["--password-file", "/nonexistent/p.txt"], "cannot read the password file: "),
    ],
)
def test_bad_options_exit_2_with_the_reason(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert run(_args(*argv), io.StringIO(), err) == 2
    assert err.getvalue().startswith(f"chargeline simulate: {message}")


def test_an_unknown_protocol_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        _args("--protocol", "1.5")


def test_a_password_file_gives_a_default_and_per_station_passwords(tmp_path: Path) -> None:
    path = tmp_path / "passwords.txt"
    path.write_text("# fleet\nshared-password-0000\nSIM-0002 own-password-0000000\n\n")
    assert read_password_file(path) == (
        "shared-password-0000",
        {"SIM-0002": "own-password-0000000"},
    )


def test_a_password_file_line_with_three_words_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "passwords.txt"
    path.write_text("SIM-0001 a b\n")
    with pytest.raises(SimulatorError, match=r"^passwords.txt line 1: expected PASSWORD or "):
        read_password_file(path)


async def test_wss_with_an_unreadable_ca_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulatorError, match="^cannot load the TLS files: "):
        await run_fleet(FleetConfig(url="wss://127.0.0.1:1", ca_file=tmp_path / "none.pem"))
