"""``chargeline simulate``'s firmware options: what they set, and how bad ones are refused."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from app.cli import build_parser
from app.cli.simulate import config_from, run
from simulator.firmware import FirmwareFault


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


def test_firmware_options_reach_the_fleet(tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    config = config_from(
        _args(
            "--stations",
            "200",
            "--firmware-version",
            "1.2.0",
            "--manufacturer-root",
            str(root),
            "--v16-firmware",
            "plain",
            "--firmware-fail-share",
            "0.1",
            "--firmware-fault",
            "signature",
            "--download-ca-file",
            str(root),
        )
    )
    assert config.firmware_version == "1.2.0"
    assert config.manufacturer_roots == (root.read_text(),)
    assert config.v16_firmware == "plain"
    assert config.download_ca_file == root
    assert config.firmware_fault_shares == {FirmwareFault.SIGNATURE: 0.1}
    faults = config.faults_by_station()
    assert sum(FirmwareFault.SIGNATURE in f for f in faults.values()) == 20


def test_without_a_share_no_station_is_faulty() -> None:
    config = config_from(_args("--stations", "5", "--firmware-fault", "install"))
    assert config.firmware_fault_shares == {}
    assert set(config.faults_by_station().values()) == {frozenset()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--firmware-fail-share", "1.5"], "a firmware fault share must be between 0 and 1"),
        (["--firmware-fail-share", "-0.1"], "a firmware fault share must be between 0 and 1"),
        (["--manufacturer-root", "/nonexistent/root.pem"], "cannot read the manufacturer root"),
        (["--download-ca-file", "/nonexistent/ca.pem"], "cannot load the download CA file"),
    ],
)
def test_bad_firmware_options_exit_2_with_the_reason(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert run(_args("--url", "ws://127.0.0.1:9", *argv), io.StringIO(), err) == 2
    assert err.getvalue().startswith(f"chargeline simulate: {message}")


@pytest.mark.parametrize("argv", [["--firmware-fault", "explode"], ["--v16-firmware", "both"]])
def test_unknown_firmware_choices_are_refused_by_the_parser(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        _args(*argv)


def test_ignore_limits_reaches_the_fleet() -> None:
    assert config_from(_args("--ignore-limits")).ignore_limits is True
    assert config_from(_args()).ignore_limits is False
