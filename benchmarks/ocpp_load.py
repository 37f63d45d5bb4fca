"""OCPP load on one ``chargeline edge`` process, against two references, with the same load.

Servers (each a separate process, on the default asyncio event loop, loopback only):
  edge  ``chargeline edge`` with the real gateway (full schema validation) and charging core,
        on SQLite and/or PostgreSQL (a fresh database, created and dropped here);
  bare  a ``websockets`` JSON echo: json.loads + json.dumps of a Heartbeat CALLRESULT (ceiling);
  ocpp  a plain ``ocpp`` library ``ChargePoint`` (v16) with an ``@on(Action.heartbeat)``
        handler and the library's default validation (what most Python CSMSs are).
Load: ``benchmarks/loadgen.py`` processes; stations held idle, a subset active in closed loop.

Figures: stations held, server RSS per connection (/proc/PID/status VmRSS), Heartbeat round
trips/s, server CPU us per round trip (/proc/PID/stat utime+stime), MeterValues persisted/s
(rows counted in the database afterwards), p50/p99 latency.

    python benchmarks/ocpp_load.py                 # 10,000 stations, 10 s per phase
    python benchmarks/ocpp_load.py --quick         # 1,000 stations, 4 s per phase (~1 min)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PASSWORD = "bench-password-000001"
PREFIX = "BENCH-"
TAG = "BENCH-TAG"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


# -- the reference servers (run as ``ocpp_load.py --serve bare|ocpp --port P``) ---------------


async def serve_bare(port: int) -> None:
    from datetime import UTC, datetime

    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    async def echo(ws: ServerConnection) -> None:
        loads, dumps = json.loads, json.dumps
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                call = loads(message)
                now = datetime.now(UTC).isoformat()
                await ws.send(dumps([3, call[1], {"currentTime": now}]))

    async with serve(
        echo,
        "127.0.0.1",
        port,
        subprotocols=["ocpp1.6"],
        compression=None,  # type: ignore[list-item]
        ping_interval=None,
        max_size=256 * 1024,
        backlog=1024,
    ):
        await asyncio.Future()


async def serve_ocpp(port: int) -> None:
    from datetime import UTC, datetime

    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action
    from websockets.asyncio.server import ServerConnection, serve

    class Point(ChargePoint):  # type: ignore[misc]
        @on(Action.heartbeat)  # type: ignore[misc]
        def heartbeat(self) -> call_result.Heartbeat:
            return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    async def handler(ws: ServerConnection) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1] if ws.request else "?"
        with contextlib.suppress(Exception):
            await Point(station_id, ws).start()

    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        max_size=256 * 1024,
        backlog=1024,
    ):
        await asyncio.Future()


# -- processes and /proc ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:g} s")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    path: str

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_reference(kind: str) -> Server:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    wait_port(port, proc)
    return Server(kind, proc, port, "/ocpp/")


def chargeline(*args: str, **popen: Any) -> subprocess.Popen[bytes]:
    executable = Path(sys.executable).parent / "chargeline"
    return subprocess.Popen([str(executable), *args], **popen)


def migrate(database_url: str, data_dir: Path) -> None:
    common = ["--data-dir", str(data_dir), "--database-url", database_url]
    if chargeline("db", "upgrade", *common, stdout=subprocess.DEVNULL).wait() != 0:
        raise RuntimeError("chargeline db upgrade failed")


def start_edge(database_url: str, data_dir: Path, log: Path) -> Server:
    port = free_port()
    common = ["--data-dir", str(data_dir), "--database-url", database_url]
    out = log.open("wb")
    ports = ["--ocpp-port", str(port), "--api-port", str(free_port())]
    ports += ["--ocpp-tls-port", str(free_port()), "--ftp-port", str(free_port())]
    proc = chargeline(
        "edge",
        *common,
        *ports,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    wait_port(port, proc)
    return Server("edge", proc, port, "/ocpp/")


# -- databases --------------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh database URL of ``kind`` (sqlite or postgresql), removed afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import psycopg

    name = f"chargeline_bench_{os.getpid()}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def register_stations(database_url: str, count: int) -> None:
    """Stations with a low-cost Argon2 hash (see README): the handshake is not what is measured."""
    from argon2 import PasswordHasher
    from sqlmodel import Session, create_engine

    from charging import registry
    from charging.passwords import StationPasswords
    from charging.tables import IdTokenRow

    cheap = StationPasswords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    engine = create_engine(database_url)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with Session(engine) as session:
        for n in range(1, count + 1):
            registry.add_station(session, f"{PREFIX}{n:05d}", PASSWORD, passwords=cheap, now=now)
        session.add(IdTokenRow(value=TAG))
        session.commit()
    engine.dispose()


def count_rows(database_url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        number = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return number


# -- load ---------------------------------------------------------------------------------------


class Load:
    """Load-generator processes holding ``stations`` connections between them."""

    def __init__(self, server: Server, stations: int, procs: int, *, boot: bool) -> None:
        per = -(-stations // procs)
        self.procs: list[subprocess.Popen[str]] = []
        for first in range(1, stations + 1, per):
            command = [
                sys.executable,
                str(HERE / "loadgen.py"),
                "--url",
                f"ws://127.0.0.1:{server.port}{server.path}",
                "--first",
                str(first),
                "--count",
                str(min(per, stations - first + 1)),
                "--prefix",
                PREFIX,
                "--password",
                PASSWORD,
                "--id-tag",
                TAG,
            ]
            if boot:
                command.append("--boot")
            self.procs.append(
                subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            )

    def connected(self) -> tuple[int, int, float]:
        held = failed = 0
        slowest = 0.0
        for proc in self.procs:
            report = self._read(proc)
            held, failed = held + report["connected"], failed + report["failed"]
            slowest = max(slowest, report["seconds"])
        return held, failed, slowest

    def run(self, kind: str, seconds: float, active: int) -> dict[str, Any]:
        proc = self.procs[0]
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({"cmd": kind, "seconds": seconds, "active": active}) + "\n")
        proc.stdin.flush()
        return self._read(proc)

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(BrokenPipeError):
                assert proc.stdin is not None
                proc.stdin.write('{"cmd": "quit"}\n')
                proc.stdin.flush()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()

    @staticmethod
    def _read(proc: subprocess.Popen[str]) -> dict[str, Any]:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("a load generator died")
        result: dict[str, Any] = json.loads(line)
        return result


# -- measurements ---------------------------------------------------------------------------


def measure(
    server: Server, args: argparse.Namespace, *, boot: bool, meter_db: str | None
) -> dict[str, Any]:
    """Hold the stations, then run Heartbeats (and MeterValues when ``meter_db``)."""
    time.sleep(0.5)
    before = rss_kib(server.proc.pid)
    load = Load(server, args.stations, args.load_procs, boot=boot)
    try:
        held, failed, connect_s = load.connected()
        time.sleep(1.0)
        after = rss_kib(server.proc.pid)
        result: dict[str, Any] = {
            "server": server.name,
            "held": held,
            "failed": failed,
            "connect_s": connect_s,
            "rss_before_mib": before / 1024,
            "rss_after_mib": after / 1024,
            "kib_per_connection": (after - before) / max(held, 1),
        }
        load.run("heartbeat", 1.0, args.active)  # warm up (validators, caches)
        cpu = cpu_seconds(server.proc.pid)
        beats = load.run("heartbeat", args.seconds, args.active)
        cpu_used = cpu_seconds(server.proc.pid) - cpu
        result["heartbeat"] = beats
        result["cpu_us_per_heartbeat"] = 1e6 * cpu_used / max(beats["count"], 1)
        if meter_db is not None:
            load.run("meter", 1.0, args.active)  # warm up (transactions started, lookups cached)
            rows = count_rows(meter_db, "meter_samples")
            cpu = cpu_seconds(server.proc.pid)
            meter = load.run("meter", args.seconds, args.active)
            meter["cpu_us_per_meter"] = (
                1e6 * (cpu_seconds(server.proc.pid) - cpu) / max(meter["count"], 1)
            )
            time.sleep(2.0)  # the group-commit writer flushes
            persisted = count_rows(meter_db, "meter_samples") - rows
            meter["rows"] = persisted
            # each MeterValues carries 2 samples; an answered message must be in the database
            meter["persisted_per_s"] = min(persisted // 2, meter["count"]) / meter["seconds"]
            meter["all_answered_persisted"] = persisted >= 2 * meter["count"]
            result["meter"] = meter
        return result
    finally:
        load.close()


def edge_run(kind: str, args: argparse.Namespace, tmp: Path, *, full: bool) -> dict[str, Any]:
    with database(kind, tmp / kind) if kind == "postgresql" else database(kind, tmp) as url:
        stations = args.stations if full else args.active
        migrate(url, tmp / f"data-{kind}")
        started = time.perf_counter()
        register_stations(url, stations)
        registered = time.perf_counter() - started
        server = start_edge(url, tmp / f"data-{kind}", tmp / f"edge-{kind}.log")
        try:
            procs = args.load_procs if full else 1
            sub = argparse.Namespace(**{**vars(args), "stations": stations, "load_procs": procs})
            result = measure(server, sub, boot=True, meter_db=url)
        finally:
            server.stop()
        result["server"] = f"edge ({kind})"
        result["register_s"] = registered
        return result


def reference_run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    server = start_reference(kind)
    try:
        return measure(server, args, boot=False, meter_db=None)
    finally:
        server.stop()


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        f"load: {args.stations} stations held over {args.load_procs} load process(es), "
        f"{args.active} active in closed loop, {args.seconds:g} s per phase",
        "",
        f"{'server':<19}{'held':>7}{'KiB/conn':>10}{'HB/s':>9}{'CPU us/HB':>11}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'MV/s':>8}{'MV p99':>8}{'CPU us/MV':>11}",
    ]
    for r in results:
        hb, mv = r["heartbeat"], r.get("meter")
        lines.append(
            f"{r['server']:<19}{r['held']:>7}{r['kib_per_connection']:>10.1f}{hb['rate']:>9.0f}"
            f"{r['cpu_us_per_heartbeat']:>11.0f}{hb['p50_ms']:>8.1f}{hb['p99_ms']:>8.1f}"
            + (
                f"{mv['persisted_per_s']:>8.0f}{mv['p99_ms']:>8.1f}{mv['cpu_us_per_meter']:>11.0f}"
                if mv
                else ""
            )
        )
    by = {r["server"]: r for r in results}
    edge = by.get("edge (sqlite)") or by.get("edge (postgresql)")
    if edge and "bare" in by and "ocpp" in by:
        bare, lib = by["bare"], by["ocpp"]
        ratio_bare = edge["heartbeat"]["rate"] / bare["heartbeat"]["rate"]
        ratio_lib = edge["heartbeat"]["rate"] / lib["heartbeat"]["rate"]
        memory = edge["kib_per_connection"] / max(bare["kib_per_connection"], 0.001)
        lines += [
            "",
            f"edge/bare Heartbeat throughput   {ratio_bare:5.2f}  (target >= 0.75)",
            f"edge/ocpp-lib Heartbeat throughput {ratio_lib:5.2f}  (target >= 3)",
            f"edge/bare memory per connection  {memory:5.2f}  (target <= 1.2)",
        ]
    pg = by.get("edge (postgresql)")
    if pg and "meter" in pg:
        lines.append(
            f"PostgreSQL MeterValues persisted/s {pg['meter']['persisted_per_s']:.0f}, "
            f"p99 {pg['meter']['p99_ms']:.1f} ms  (target >= 3000/s, p99 < 100 ms)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000, help="connections held")
    parser.add_argument("--active", type=int, default=200, help="connections in closed loop")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--load-procs", type=int, help="load processes (default 1 per 5,000)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--servers", default="edge,bare,ocpp", help="which servers to measure")
    parser.add_argument("--quick", action="store_true", help="1,000 stations, 4 s phases")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--serve", choices=["bare", "ocpp"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    if args.serve:
        asyncio.run(serve_bare(args.port) if args.serve == "bare" else serve_ocpp(args.port))
        return
    if args.quick:
        args.stations, args.seconds = min(args.stations, 1_000), min(args.seconds, 4.0)
    args.load_procs = args.load_procs or max(1, -(-args.stations // 5_000))
    if args.stations + 100 > hard:
        sys.exit(f"the open-file limit ({hard}) is below {args.stations} connections")
    servers = args.servers.split(",")
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = []
    with tempfile.TemporaryDirectory(prefix="ocpp-load-") as name:
        tmp = Path(name)
        if "edge" in servers:
            for index, kind in enumerate(kinds):
                (tmp / kind).mkdir(exist_ok=True)
                results.append(edge_run(kind, args, tmp, full=index == 0))
                print(json.dumps(results[-1]), file=sys.stderr)
        for kind in ("bare", "ocpp"):
            if kind in servers:
                results.append(reference_run(kind, args))
                print(json.dumps(results[-1]), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(report(results, args))


if __name__ == "__main__":
    main()
