"""``chargeline simulate``: run a fleet of virtual OCPP stations against a gateway.

    chargeline simulate --url ws://127.0.0.1:9000 --stations 10 --protocol 2.0.1 \\
        --password-file passwords.txt --sessions 2 --speed 60

    chargeline simulate --stations 200 --sessions 0 --duration 600 --firmware-version 1.0.0 \\
        --manufacturer-root root.pem --firmware-fail-share 0.1 --firmware-fault signature

Progress is one refreshing line on a terminal and a plain line every few seconds otherwise.
The exit code is 0 when every station finished cleanly, 1 when any failed or was refused (the
summary names each), 2 for bad options.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from simulator.fleet import (
    PROTOCOLS,
    V16_FIRMWARE,
    FirmwareFault,
    FleetConfig,
    FleetReport,
    FleetStats,
    SimulatorError,
    read_password_file,
    run_fleet,
)


def add_simulate_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``simulate`` to the ``chargeline`` sub-commands (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate", help="run virtual OCPP charging stations against a gateway"
    )
    configure_parser(parser)
    parser.set_defaults(handler=_handler, needs_platform=False)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--url", default="ws://127.0.0.1:9000", help="gateway base URL (ws:// or wss://)")
    add("--stations", type=int, default=1, help="how many stations (default 1)")
    add("--protocol", choices=PROTOCOLS, default="1.6", help="OCPP version (default 1.6)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--password", help="HTTP Basic password of every station (profile 1/2)")
    secret.add_argument(
        "--password-file",
        type=Path,
        help="lines of PASSWORD (everyone) or STATION_ID PASSWORD",
    )
    add("--id-prefix", default="SIM-", help="station ids are PREFIX0001, PREFIX0002, ...")
    add("--first", type=int, default=1, help="number of the first station (default 1)")
    add("--sessions", type=int, default=1, help="charging sessions per station (default 1)")
    add("--meter-interval", type=float, default=60.0, help="simulated s between MeterValues")
    add("--session-length", type=float, default=300.0, help="simulated s of each session")
    add("--duration", type=float, help="wall-clock s to stay connected (default: until done)")
    add("--speed", type=float, default=1.0, help="simulated seconds per wall-clock second")
    add("--evses", type=int, default=1, help="EVSEs (connectors) per station (default 1)")
    add("--id-tag", help="RFID tag the stations present (default TAG-<station id>)")
    add("--ramp", type=float, default=0.0, help="spread connections over this many s")
    add("--ca-file", type=Path, help="CA bundle that signs the server certificate (wss)")
    add("--cert", type=Path, help="client certificate, PEM (security profile 3)")
    add("--key", type=Path, help="client certificate's private key, PEM")
    add("--call-timeout", type=float, default=30.0, help="wait for each answer (default 30 s)")
    add(
        "--ignore-limits",
        action="store_true",
        help="draw full power whatever the charging profiles say (to see the platform flag it)",
    )
    firmware = parser.add_argument_group("firmware updates")
    firmware.add_argument("--firmware-version", default="1.0.0", help="version at first boot")
    firmware.add_argument(
        "--manufacturer-root",
        type=Path,
        action="append",
        default=[],
        help="PEM root the stations trust for firmware signatures (repeatable)",
    )
    firmware.add_argument("--download-ca-file", type=Path, help="CA bundle for HTTPS downloads")
    firmware.add_argument(
        "--v16-firmware",
        choices=V16_FIRMWARE,
        default="whitepaper",
        help="1.6 stations take SignedUpdateFirmware (whitepaper) or UpdateFirmware (plain)",
    )
    firmware.add_argument(
        "--firmware-fail-share",
        type=float,
        default=0.0,
        help="share of the stations (0-1, fixed by station id) that fail their updates",
    )
    firmware.add_argument(
        "--firmware-fault",
        choices=[fault.value for fault in FirmwareFault],
        default=FirmwareFault.DOWNLOAD.value,
        help="how that share fails (default download)",
    )


def config_from(args: argparse.Namespace) -> FleetConfig:
    """Raises SimulatorError for options that cannot work together."""
    password: str | None = args.password
    passwords: dict[str, str] = {}
    if args.password_file is not None:
        password, passwords = read_password_file(args.password_file)
    roots = []
    for path in args.manufacturer_root:
        try:
            roots.append(path.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SimulatorError(f"cannot read the manufacturer root {path}: {exc}") from None
    shares = {FirmwareFault(args.firmware_fault): args.firmware_fail_share}
    return FleetConfig(
        url=args.url,
        stations=args.stations,
        protocol=args.protocol,
        password=password,
        passwords=passwords,
        id_prefix=args.id_prefix,
        first=args.first,
        sessions=args.sessions,
        meter_interval=args.meter_interval,
        session_seconds=args.session_length,
        duration=args.duration,
        speed=args.speed,
        evses=args.evses,
        id_tag=args.id_tag,
        ca_file=args.ca_file,
        cert_file=args.cert,
        key_file=args.key,
        call_timeout=args.call_timeout,
        ramp_seconds=args.ramp,
        firmware_version=args.firmware_version,
        v16_firmware=args.v16_firmware,
        ignore_limits=args.ignore_limits,
        manufacturer_roots=tuple(roots),
        download_ca_file=args.download_ca_file,
        firmware_fault_shares=shares if args.firmware_fail_share else {},
    )


async def _progress(stats: FleetStats, stations: int, out: TextIO, interval: float) -> None:
    tty = out.isatty()
    while True:
        await asyncio.sleep(interval if tty else max(interval, 5.0))
        line = stats.line(stations)
        out.write(f"\r{line}\x1b[K" if tty else line + "\n")
        out.flush()


async def simulate(
    config: FleetConfig, out: TextIO, *, progress_interval: float = 0.5
) -> FleetReport:
    """Run the fleet with a progress display on ``out``."""
    stats = FleetStats()
    display = asyncio.create_task(_progress(stats, config.stations, out, progress_interval))
    try:
        return await run_fleet(config, stats=stats)
    finally:
        display.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await display
        if out.isatty():
            out.write("\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        config = config_from(args)
        report = asyncio.run(simulate(config, out))
    except SimulatorError as exc:
        err.write(f"chargeline simulate: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    out.write(report.summary() + "\n")
    return 0 if report.ok else 1


def _handler(args: argparse.Namespace, _platform: object = None) -> int:
    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargeline simulate", description=__doc__)
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
