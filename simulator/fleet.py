"""A fleet of simulated OCPP charging stations, for demos, tests and load.

``run_fleet(FleetConfig(url=..., stations=N, protocol="1.6"))`` starts N ``SimulatedStation``s
(``simulator.station``) on one event loop and returns a ``FleetReport``: each station boots,
heartbeats, runs its charging sessions with rising meter values, and answers the CSMS's
commands until its sessions are done or the run's ``duration`` ends.

Security profile 1 sends HTTP Basic credentials (user = station id) over ws; profiles 2 and 3 use
wss with ``ca_file`` to trust the server and, for profile 3, ``cert_file``/``key_file``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from simulator.firmware import FirmwareFault, faulty_stations
from simulator.link import station_url
from simulator.messages import FIRMWARE
from simulator.station import SimulatedStation, StationOptions
from simulator.stats import FleetStats, StationReport

__all__ = [
    "FirmwareFault",
    "FleetConfig",
    "FleetReport",
    "FleetStats",
    "SimulatedStation",
    "SimulatorError",
    "StationOptions",
    "StationReport",
    "read_password_file",
    "run_fleet",
    "station_url",
]

PROTOCOLS = ("1.6", "2.0.1", "2.1")
V16_FIRMWARE = ("whitepaper", "plain")


class SimulatorError(Exception):
    """The fleet cannot start as configured (bad URL, unreadable password file, ...)."""


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """A fleet run. Times in seconds: ``meter_interval`` and ``session_seconds`` are simulated
    time, ``duration`` and ``ramp_seconds`` wall-clock; ``speed`` divides simulated waits."""

    url: str
    stations: int = 1
    protocol: str = "1.6"
    password: str | None = None
    passwords: Mapping[str, str] = field(default_factory=dict)
    id_prefix: str = "SIM-"
    first: int = 1
    sessions: int = 1
    meter_interval: float = 60.0
    session_seconds: float = 300.0
    duration: float | None = None
    speed: float = 1.0
    evses: int = 1
    id_tag: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    call_timeout: float = 30.0
    ramp_seconds: float = 0.0
    firmware_version: str = FIRMWARE
    v16_firmware: str = "whitepaper"
    ignore_limits: bool = False  # stations draw full power whatever their charging profiles say
    manufacturer_roots: tuple[str, ...] = ()  # PEM texts installed in every station
    download_ca_file: Path | None = None
    # a share of the fleet per fault (exactly round(share x N) stations, fixed by id) ...
    firmware_fault_shares: Mapping[FirmwareFault, float] = field(default_factory=dict)
    # ... and faults of named stations
    firmware_faults: Mapping[str, frozenset[FirmwareFault]] = field(default_factory=dict)

    def station_ids(self) -> list[str]:
        return [f"{self.id_prefix}{n:04d}" for n in range(self.first, self.first + self.stations)]

    def faults_by_station(self) -> dict[str, frozenset[FirmwareFault]]:
        """Every station's firmware faults: its share-chosen ones and its named ones."""
        ids = self.station_ids()
        found: dict[str, set[FirmwareFault]] = {station_id: set() for station_id in ids}
        for fault, share in self.firmware_fault_shares.items():
            for station_id in faulty_stations(ids, share, fault):
                found[station_id].add(fault)
        for station_id, faults in self.firmware_faults.items():
            found.setdefault(station_id, set()).update(faults)
        return {station_id: frozenset(faults) for station_id, faults in found.items()}


@dataclass(slots=True)
class FleetReport:
    stations: list[StationReport]
    stats: FleetStats

    @property
    def failed(self) -> list[StationReport]:
        return [s for s in self.stations if not s.ok]

    @property
    def refused(self) -> list[StationReport]:
        return [s for s in self.stations if s.refused]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        refused, failed = len(self.refused), len(self.failed) - len(self.refused)
        lines = [
            f"{len(self.stations) - len(self.failed)}/{len(self.stations)} stations ok"
            f"{f', {refused} refused' if refused else ''}"
            f"{f', {failed} failed' if failed else ''}, "
            f"{self.stats.sessions_finished} sessions finished, "
            f"{sum(s.energy_wh for s in self.stations) / 1000:.2f} kWh delivered, "
            f"{self.stats.messages_sent} messages sent, {self.stats.errors} errors"
        ]
        lines += [f"  {s.station_id}: {s.error}" for s in self.failed[:20]]
        if len(self.failed) > 20:
            lines.append(f"  ... and {len(self.failed) - 20} more")
        return "\n".join(lines)


def validate(config: FleetConfig) -> None:
    """Raises SimulatorError for a configuration that cannot run."""
    if config.protocol not in PROTOCOLS:
        raise SimulatorError(f"protocol must be one of {', '.join(PROTOCOLS)}")
    if not config.url.startswith(("ws://", "wss://")):
        raise SimulatorError(f"the URL must start with ws:// or wss://, not {config.url!r}")
    if config.stations < 1:
        raise SimulatorError("at least one station is needed")
    if config.speed <= 0 or config.meter_interval <= 0 or config.session_seconds < 0:
        raise SimulatorError("speed and meter interval must be positive")
    if config.url.startswith("ws://") and (config.ca_file or config.cert_file):
        raise SimulatorError("--ca-file and --cert need a wss:// URL")
    if (config.cert_file is None) != (config.key_file is None):
        raise SimulatorError("--cert and --key go together")
    if config.v16_firmware not in V16_FIRMWARE:
        raise SimulatorError(f"--v16-firmware must be one of {', '.join(V16_FIRMWARE)}")
    if any(not 0.0 <= share <= 1.0 for share in config.firmware_fault_shares.values()):
        raise SimulatorError("a firmware fault share must be between 0 and 1")


def download_context(config: FleetConfig) -> ssl.SSLContext | None:
    """Trust for HTTPS firmware downloads (None: the wss trust, else the system's)."""
    if config.download_ca_file is None:
        return None
    try:
        context = ssl.create_default_context(cafile=str(config.download_ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise SimulatorError(f"cannot load the download CA file: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def ssl_context(config: FleetConfig) -> ssl.SSLContext | None:
    """The TLS client context of profiles 2 and 3 (TLS 1.2 or later)."""
    if not config.url.startswith("wss://"):
        return None
    try:
        context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if config.cert_file and config.key_file:
            context.load_cert_chain(str(config.cert_file), str(config.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise SimulatorError(f"cannot load the TLS files: {exc}") from None
    return context


def read_password_file(path: Path) -> tuple[str | None, dict[str, str]]:
    """A file of ``STATION_ID PASSWORD`` lines; a line with one word is everyone's password.

    Raises:
        SimulatorError: unreadable file, or a line with more than two words.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SimulatorError(f"cannot read the password file: {exc}") from None
    default: str | None = None
    per_station: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) == 1:
            default = words[0]
        elif len(words) == 2:
            per_station[words[0]] = words[1]
        else:
            raise SimulatorError(
                f"{path.name} line {number}: expected PASSWORD or STATION_ID PASSWORD"
            )
    return default, per_station


async def run_fleet(
    config: FleetConfig,
    *,
    stats: FleetStats | None = None,
    on_station: Callable[[SimulatedStation], None] | None = None,
) -> FleetReport:
    """Run every station of ``config`` to the end and report.

    ``on_station`` sees each station as it is made (tests use it to reach the stations).

    Raises:
        SimulatorError: the configuration cannot run.
    """
    validate(config)
    stats = stats or FleetStats()
    context = ssl_context(config)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.duration if config.duration is not None else None
    options = StationOptions(
        sessions=config.sessions,
        session_seconds=config.session_seconds,
        meter_interval=config.meter_interval,
        speed=config.speed,
        evses=config.evses,
        id_tag=config.id_tag,
        call_timeout=config.call_timeout,
        deadline=deadline,
        firmware_version=config.firmware_version,
        v16_firmware=config.v16_firmware,
        manufacturer_roots=config.manufacturer_roots,
        download_ssl=download_context(config),
        ignore_limits=config.ignore_limits,
    )
    faults = config.faults_by_station()
    stations = []
    for station_id in config.station_ids():
        station = SimulatedStation(
            station_id,
            config.url,
            config.protocol,
            password=config.passwords.get(station_id, config.password),
            ssl_context=context,
            options=dataclasses.replace(options, firmware_faults=faults[station_id]),
            stats=stats,
        )
        if on_station is not None:
            on_station(station)
        stations.append(station)

    async def one(index: int, station: SimulatedStation) -> StationReport:
        if config.ramp_seconds:
            await asyncio.sleep(config.ramp_seconds * index / len(stations))
        try:
            return await station.run()
        finally:
            stats.stations_done += 1

    reports = await asyncio.gather(*(one(i, s) for i, s in enumerate(stations)))
    return FleetReport(list(reports), stats)
