"""1,000 stations downloading one 20 MiB image at once over HTTP with Range, against a bare
file server.

Two servers, each in its own process on a free loopback port, serve the same file:

- ``platform``: the Chargeline API (``create_app`` under uvicorn, SQLite), ``GET /fw/{token}``
  with one signed token per station, the image read in chunks from the local artifact store,
  one ``firmware_downloads`` row per request;
- ``bare``: Starlette's ``FileResponse`` (it serves ``Range`` too) for one fixed path, no token,
  no database: the ceiling for Python, uvicorn and this machine.

Each of ``--clients`` raw asyncio clients opens one keep-alive connection and fetches the image
in ``--ranges`` consecutive ``Range`` requests (206 checked, bodies counted, client 0 checks
the sha256 of what it put together). Throughput is bytes / wall time; the server's RSS comes
from ``/proc/PID/status`` before the load, its peak sampled every 100 ms during it, and after.
TLS is not part of this run: in production the platform's https:// URLs sit behind its TLS
front (a load balancer), so both servers here speak plain HTTP.

    PYTHONPATH=. .venv/bin/python benchmarks/firmware_download.py            # 1,000 x 20 MiB
    PYTHONPATH=. .venv/bin/python benchmarks/firmware_download.py --quick    # 100 x 20 MiB
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform as host
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

SECRET = "benchmark-secret-0123456789-0123456789-abcdef"
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def settings_for(data: Path, port: int) -> object:
    from app.settings import Settings

    return Settings(
        mode="production",
        data_dir=data,
        database_url=f"sqlite:///{data / 'chargeline.db'}",
        secret_key=SECRET,  # type: ignore[arg-type]
        api_port=port,
        public_url=f"http://127.0.0.1:{port}",
    )


def serve(kind: str, data: Path, port: int) -> None:
    """Run one server in this process until killed."""
    import uvicorn

    if kind == "platform":
        from app.main import create_app
        from app.platform import build_platform

        app = create_app(platform=build_platform(settings_for(data, port)))  # type: ignore[arg-type]
    else:
        from starlette.applications import Starlette
        from starlette.responses import FileResponse
        from starlette.routing import Route

        image = data / "image.bin"

        async def bare(_request: object) -> FileResponse:
            return FileResponse(image, media_type="application/octet-stream")

        app = Starlette(routes=[Route("/fw/image.bin", bare)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


def prepare(data: Path, size: int, clients: int, port: int) -> tuple[list[str], str]:
    """The database, the image in the artifact store and one location per station."""
    from sqlmodel import Session

    from app.db import make_engine
    from app.migrate import upgrade
    from common.clock import utcnow
    from enrollment.tables import HardwareFamilyRow
    from firmware.download_links import DownloadLinks
    from firmware.downloads import derive_key
    from firmware.storage import LocalArtifactStore
    from firmware.tables import FirmwareImageRow

    content = os.urandom(size)
    (data / "image.bin").write_bytes(content)
    sha256 = hashlib.sha256(content).hexdigest()
    engine = make_engine(f"sqlite:///{data / 'chargeline.db'}")
    upgrade(engine)
    store = LocalArtifactStore(data / "firmware")
    store.put(f"1/{sha256}", [content])
    with Session(engine, expire_on_commit=False) as session:
        family = HardwareFamilyRow(name="bench", vendor="ACME", model="B", ocpp_version="2.0.1")
        session.add(family)
        session.flush()
        assert family.id is not None
        image = FirmwareImageRow(
            family_id=family.id,
            version="1.0.0",
            filename="bench.bin",
            size=size,
            sha256=sha256,
            md5=hashlib.md5(content).hexdigest(),  # noqa: S324
            storage_key=f"1/{sha256}",
        )
        session.add(image)
        session.commit()
    links = DownloadLinks(
        engine, derive_key(SECRET), public_url=f"http://127.0.0.1:{port}", ftp_host="", ftp_port=0
    )
    now = utcnow()
    paths = [
        links.location(
            image=image,
            station_id=f"BENCH-{n:06d}",
            target_id=n + 1,
            protocol="https",
            valid_from=now,
            valid_until=now + timedelta(hours=2),
        ).split(str(port), 1)[1]
        for n in range(clients)
    ]
    engine.dispose()
    return paths, sha256


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Totals:
    received: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)


async def client(port: int, path: str, size: int, ranges: int, totals: Totals, keep: bool) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024 * 1024)
    part = -(-size // ranges)
    kept = bytearray()
    try:
        for start in range(0, size, part):
            end = min(start + part, size) - 1
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes={start}-{end}\r\n\r\n"
            )
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if status != b"206" or length != end - start + 1:
                totals.failures.append(f"{status.decode()} {length} for {start}-{end}")
                return b""
            left = length
            while left:
                chunk = await reader.read(min(left, 256 * 1024))
                if not chunk:
                    raise ConnectionError("closed mid-body")
                left -= len(chunk)
                totals.received += len(chunk)
                if keep:
                    kept += chunk
            totals.requests += 1
    finally:
        writer.close()
    return bytes(kept)


async def sample_peak(pid: int, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, rss_kib(pid))
        await asyncio.sleep(0.1)
    return peak


async def load(
    pid: int, port: int, paths: list[str], size: int, ranges: int, sha256: str
) -> dict[str, float]:
    totals = Totals()
    # warm-up: one whole download, so lazy imports and the first connection are not counted
    await client(port, paths[0], size, 1, Totals(), keep=False)
    before = rss_kib(pid)
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_peak(pid, stop))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(client(port, p, size, ranges, totals, keep=(n == 0)) for n, p in enumerate(paths)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    stop.set()
    peak = await sampler
    errors = [r for r in results if isinstance(r, BaseException)]
    first = results[0]
    intact = isinstance(first, bytes) and hashlib.sha256(first).hexdigest() == sha256
    return {
        "seconds": elapsed,
        "mib_s": totals.received / MIB / elapsed,
        "requests": totals.requests,
        "errors": len(errors) + len(totals.failures),
        "rss_before_mib": before / 1024,
        "rss_peak_mib": peak / 1024,
        "rss_after_mib": rss_kib(pid) / 1024,
        "intact": float(intact),
    }


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def run_server(
    kind: str, data: Path, paths: list[str], args: argparse.Namespace, sha256: str, port: int
) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--data", str(data), "--port", str(port)],
        env=env,
    )
    try:
        wait_listening(port, process)
        return asyncio.run(load(process.pid, port, paths, args.size_mib * MIB, args.ranges, sha256))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--size-mib", type=int, default=20)
    parser.add_argument("--ranges", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100 clients")
    parser.add_argument("--serve", choices=["platform", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data, args.port)
        return
    if args.quick:
        args.clients = 100
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients + 256)), hard))
    with tempfile.TemporaryDirectory(prefix="fw-bench-") as tmp:
        data = Path(tmp)
        port = free_port()
        paths, sha256 = prepare(data, args.size_mib * MIB, args.clients, port)
        results = {}
        for kind, kind_paths in (("bare", ["/fw/image.bin"] * args.clients), ("platform", paths)):
            results[kind] = run_server(
                kind, data, kind_paths, args, sha256, free_port() if kind == "bare" else port
            )
        with sqlite3.connect(data / "chargeline.db") as db:
            rows = db.execute(
                "SELECT count(*), sum(bytes_sent) FROM firmware_downloads "
                "WHERE outcome = 'completed'"
            ).fetchone()
    print(f"machine: {os.cpu_count()} cores, Python {host.python_version()}, {host.platform()}")
    print(
        f"{args.clients} clients x {args.size_mib} MiB in {args.ranges} ranges each, "
        "HTTP/1.1 keep-alive, loopback"
    )
    print(
        f"{'server':10} {'s':>7} {'MiB/s':>9} {'requests':>9} {'errors':>7} "
        f"{'RSS before':>11} {'RSS peak':>9} {'RSS after':>10} intact"
    )
    for kind, r in results.items():
        print(
            f"{kind:10} {r['seconds']:7.1f} {r['mib_s']:9.0f} {r['requests']:9.0f} "
            f"{r['errors']:7.0f} {r['rss_before_mib']:9.1f}Mi {r['rss_peak_mib']:7.1f}Mi "
            f"{r['rss_after_mib']:8.1f}Mi {'yes' if r['intact'] else 'NO'}"
        )
    ratio = results["platform"]["mib_s"] / results["bare"]["mib_s"]
    print(f"platform / bare throughput: {ratio:.2f}")
    print(f"download log (completed rows, bytes): {rows}")


if __name__ == "__main__":
    main()
