"""Dashboard pages at fleet scale: render time per page with 10,000 stations and 1,000,000 meter
samples, against the plain ``/healthz`` answer measured in the same run.

Seeds a fresh database with bulk inserts (executemany on SQLite, COPY for the meter samples on
PostgreSQL): 4 hardware families, 10,000 devices and their stations (firmware versions, models,
online flags), 10,000 transactions (one running per 20) and 1,000,000 meter samples (energy
register + power), 100,000 of them in one long session. Then logs in as an admin and requests
every URL of ``URLS`` through the ASGI app in-process (Starlette's TestClient: no network), a
first time cold (its own figure: a long session's curve is cached after it), twice more to warm
up and ``--repeat`` times measured, and prints first/p50/p95/max per URL and the p50 over the
baseline's p50. A route that does not exist (404) prints ``missing``.

The SQLite file sits under a temporary directory; PostgreSQL is measured when ``--database``
(or ``CHARGELINE_BENCH_DATABASE_URL``) names a database the script may wipe.

Run: ``python benchmarks/dashboard_render.py [--repeat 30] [--database postgresql+psycopg://...]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app import audit
from app.audit import AuditEntry
from app.ca.keys import serial_to_hex
from app.ca.tables import IssuedCertificateRow
from app.db import make_engine
from app.identity import service
from app.main import create_app
from app.migrate import upgrade
from app.platform import build_platform
from app.settings import Settings
from charging.energy import ENERGY_REGISTER, POWER
from charging.ledger import SAMPLE_COLUMNS, SAMPLES_COPY
from charging.tables import Connector, MeterSampleRow, SecurityEventRow, Station, Transaction
from enrollment.tables import DeviceRow, HardwareFamilyRow, MacRangeRow

# Every dashboard page, with placeholders filled from the seeded data. Add new pages here.
URLS: tuple[str, ...] = (
    "/login",
    "/",
    "/overview/figures",
    "/stations",
    "/stations?offset=9000",
    "/stations?q=CP-0042",
    "/stations?q=DC150",
    "/stations?state=faulted",
    "/stations?state=online&family=acme-W2",
    "/stations/{station}",
    "/stations/{station}/connectors",
    "/stations/{station}/sessions",
    "/sessions",
    "/sessions?status=running",
    "/sessions?station={station}",
    "/sessions?from=2026-06-01&to=2026-06-30",
    "/sessions?offset=5000",
    "/sessions/{session}",
    "/sessions/{session}/curve.json",
    "/sessions/{long_session}",
    "/sessions/{long_session}?offset=99900",
    "/sessions/{long_session}/curve.json",
    "/factory",
    "/factory/lots/LOT-004",
    "/factory/devices?q=CP-00",
    "/factory/devices/{station}",
    "/certificates",
    "/certificates?station={station}",
    "/certificates?status=revoked",
    "/certificates/{certificate}",
    "/firmware",
    "/firmware/rollouts",
    "/audit",
    "/audit?actor=admin@example.com",
    "/security-events",
    "/security-events?station={station}",
)
BASELINE = "/healthz"
TARGET_MS = 200.0

STATIONS = 10_000
TRANSACTIONS = 10_000
CONNECTOR_STATES = ("Available", "Occupied", "Available", "Charging")
SAMPLES = 1_000_000
LONG_SESSION_SAMPLES = 100_000
_MIDNIGHT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
START = _MIDNIGHT - timedelta(hours=TRANSACTIONS * 0.8 - 8)
"""Sessions start 48 minutes apart up to this morning: the last ten started today."""
SECRET = "benchmark-secret-0123456789-0123456789-abcdef"
PASSWORD = "correct horse battery staple"
CHUNK = 50_000
AUDIT_ENTRIES = 100_000
CERTIFICATE_SERIALS = 0x5EED_0000_0000_0000
SECURITY_EVENTS = 20_000


def station_id(n: int) -> str:
    return f"CP-{n:05d}"


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert(engine: Engine, table: type[SQLModel], rows: Iterator[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        with engine.begin() as connection:
            connection.execute(insert(table), chunk)


def seed_fleet(engine: Engine) -> None:
    now = START
    families = ["W1", "W2", "DC50", "DC150"]
    _insert(
        engine,
        HardwareFamilyRow,
        iter(
            {
                "id": i + 1,
                "name": f"acme-{m}",
                "vendor": "ACME",
                "model": m,
                "ocpp_version": "2.0.1" if i % 2 else "1.6",
                "default_channel": "stable",
                "created_at": now,
            }
            for i, m in enumerate(families)
        ),
    )
    _insert(
        engine,
        MacRangeRow,
        iter(
            [
                {
                    "id": 1,
                    "first": 0x020000000000,
                    "last": 0x02000000FFFF,
                    "next_index": STATIONS,
                    "created_at": now,
                }
            ]
        ),
    )
    _insert(
        engine,
        DeviceRow,
        (
            {
                "serial": station_id(n),
                "family_id": n % 4 + 1,
                "lot": f"LOT-{n // 500:03d}",
                "metadata_json": "{}",
                "mac": 0x020000000000 + n,
                "mac_range_id": 1,
                "state": "paired" if n % 3 else "released",
                "device_code_hash": "0" * 64,
                "packaging_code_hash": "1" * 64,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(STATIONS)
        ),
    )
    _insert(
        engine,
        Station,
        (
            {
                "id": station_id(n),
                "security_profile": 2,
                "vendor": "ACME",
                "model": families[n % 4],
                "serial_number": station_id(n),
                "firmware_version": f"1.{n % 7}.{n % 3}",
                "ocpp_version": "ocpp2.0.1",
                "registered_at": now,
                "last_seen_at": now,
                "online": n % 5 != 0,
                "pending": False,
                "created_at": now,
            }
            for n in range(STATIONS)
        ),
    )


def seed_connectors(engine: Engine) -> None:
    """Two connectors per station; one station in 100 has a faulted one."""
    _insert(
        engine,
        Connector,
        (
            {
                "station_id": station_id(n),
                "evse_id": evse,
                "connector_id": 1,
                "status": "Faulted" if n % 100 == 7 and evse == 2 else CONNECTOR_STATES[n % 4],
                "updated_at": START,
            }
            for n in range(STATIONS)
            for evse in (1, 2)
        ),
    )


def _transaction(n: int, samples: int) -> dict[str, Any]:
    started = START + timedelta(hours=n * 0.8)
    running = n % 20 == 0
    return {
        "id": n + 1,
        "transaction_ref": str(n + 1),
        "station_id": station_id(n % STATIONS),
        "evse_id": 1,
        "connector_id": 1,
        "id_token": f"TAG-{n % 2_000:04d}",
        "started_at": started,
        "ended_at": None if running else started + timedelta(hours=2),
        "meter_start_wh": 0.0,
        "meter_stop_wh": None if running else samples * 50.0,
        "energy_wh": None if running else samples * 50.0,
        "stop_reason": None,
        "state": "active" if running else "ended",
    }


def _samples(tx: dict[str, Any], pairs: int) -> Iterator[tuple[Any, ...]]:
    step = timedelta(seconds=max(1.0, 7_200 / max(pairs, 1)))
    for k in range(pairs):
        at = tx["started_at"] + step * k
        wh, w = k * 100.0, 7_000.0 + (k % 30) * 20
        yield (
            tx["id"],
            tx["station_id"],
            1,
            at,
            ENERGY_REGISTER,
            None,
            wh,
            "Wh",
            "Sample.Periodic",
        )
        yield (tx["id"], tx["station_id"], 1, at, POWER, None, w, "W", "Sample.Periodic")


def _one_certificate() -> str:
    """A real station certificate (self-signed, to be quick): every seeded row carries it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, station_id(0))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(START)
        .not_valid_after(START + timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def seed_records(engine: Engine) -> str:
    """Certificates (one per station), audit entries and security events; returns a serial."""
    pem = _one_certificate()
    _insert(
        engine,
        IssuedCertificateRow,
        (
            {
                "serial_hex": serial_to_hex(CERTIFICATE_SERIALS + n),
                "issuer_role": "station",
                "profile": "station",
                "subject_cn": station_id(n),
                "station_id": station_id(n),
                "not_before": START,
                "not_after": START + timedelta(days=730 - n % 800),
                "status": "revoked" if n % 50 == 0 else "issued",
                "certificate_pem": pem,
                "created_at": START,
            }
            for n in range(STATIONS)
        ),
    )
    _insert(
        engine,
        AuditEntry,
        (
            {
                "at": START + timedelta(minutes=n),
                "actor": f"user-{n % 40}@example.com",
                "action": ("station.add", "certificate.issue", "firmware.upload")[n % 3],
                "object_type": "station",
                "object_id": station_id(n % STATIONS),
                "source": "127.0.0.1",
                "outcome": "success",
                "detail": "{}",
            }
            for n in range(AUDIT_ENTRIES)
        ),
    )
    _insert(
        engine,
        SecurityEventRow,
        (
            {
                "station_id": station_id(n % STATIONS),
                "type": ("FirmwareUpdated", "TamperDetectionActivated", "InvalidCsmsCertificate")[
                    n % 3
                ],
                "timestamp": START + timedelta(minutes=n),
                "tech_info": None,
                "received_at": START + timedelta(minutes=n),
            }
            for n in range(SECURITY_EVENTS)
        ),
    )
    return serial_to_hex(CERTIFICATE_SERIALS + STATIONS // 2)


def seed_sessions(engine: Engine) -> tuple[int, int]:
    """Transactions and their samples; returns (an ordinary session id, the long one's id)."""
    long_pairs = LONG_SESSION_SAMPLES // 2
    per_tx = (SAMPLES - LONG_SESSION_SAMPLES) // 2 // (TRANSACTIONS - 1)
    txs = [_transaction(n, long_pairs if n == 0 else per_tx) for n in range(TRANSACTIONS)]
    _insert(engine, Transaction, iter(txs))

    def rows() -> Iterator[tuple[Any, ...]]:
        for n, tx in enumerate(txs):
            yield from _samples(tx, long_pairs if n == 0 else per_tx)

    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor, cursor.copy(SAMPLES_COPY) as copy:  # type: ignore[attr-defined]
                for row in rows():
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        _insert(engine, MeterSampleRow, (dict(zip(SAMPLE_COLUMNS, r, strict=True)) for r in rows()))
    return TRANSACTIONS // 2 + 1, 1


def finish(engine: Engine) -> None:
    """Move the sequences past the ids given explicitly; gather the planner's statistics."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in ("transactions", "hardware_families", "mac_ranges"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
        connection.execute(text("ANALYZE"))


def wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(client: TestClient, url: str, repeat: int) -> tuple[int, float, list[float]]:
    """The status, the first (cold) request's time and ``repeat`` times after a warm-up."""
    start = time.perf_counter()
    status = client.get(url).status_code
    first = (time.perf_counter() - start) * 1000
    for _ in range(2):
        client.get(url)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        status = answer.status_code
    return status, first, times


def measure(database_url: str, data_dir: Path, repeat: int) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        wipe(engine)
    upgrade(engine)
    begun = time.perf_counter()
    seed_fleet(engine)
    seed_connectors(engine)
    session, long_session = seed_sessions(engine)
    certificate = seed_records(engine)
    finish(engine)
    print(f"{engine.dialect.name}: seeded in {time.perf_counter() - begun:.0f} s")
    engine.dispose()
    settings = Settings(
        mode="production", data_dir=data_dir, database_url=database_url, secret_key=SECRET
    )
    platform = build_platform(settings)
    with Session(platform.engine) as db:
        service.create_user(
            db,
            "admin@example.com",
            PASSWORD,
            ["admin"],
            actor=audit.Actor("bench"),
            verified=True,
        )
        db.commit()
    results = []
    with TestClient(create_app(platform=platform), base_url="http://localhost") as client:
        log_in(client)
        _, base_first, base = timed(client, BASELINE, repeat)
        base_p50 = statistics.median(base)
        print(f"{'URL':<48} {'first':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'x base':>7}")
        base_line = f"{base_p50:7.1f} {percentile(base, 0.95):7.1f} {max(base):7.1f}"
        print(f"{BASELINE:<48} {base_first:7.1f} {base_line}")
        for template in URLS:
            url = template.format(
                station=station_id(42),
                session=session,
                long_session=long_session,
                certificate=certificate,
            )
            status, first, times = timed(client, url, repeat)
            if status == 404:
                print(f"{url:<48} missing")
                results.append((url, "missing"))
                continue
            p50, p95 = statistics.median(times), percentile(times, 0.95)
            flag = "" if status == 200 else f"  (HTTP {status})"
            over = "  OVER" if max(p95, first) > TARGET_MS else ""
            line = (
                f"{first:7.1f} {p50:7.1f} {p95:7.1f} {max(times):7.1f} {p50 / base_p50:7.1f}"
                f"{flag}{over}"
            )
            print(f"{url:<48} {line}")
            results.append((url, line))
    platform.close()
    return results


def log_in(client: TestClient) -> None:
    form = client.get("/login").text
    found = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert found, "no login form"
    answer = client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "login_csrf": found.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--database",
        default=os.environ.get("CHARGELINE_BENCH_DATABASE_URL"),
        help="a PostgreSQL URL to wipe and measure as well",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/bench.db", Path(tmp) / "var", args.repeat)
        if args.database:
            measure(args.database, Path(tmp) / "var-pg", args.repeat)


if __name__ == "__main__":
    main()
