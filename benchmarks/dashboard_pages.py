"""Dashboard fleet pages against a large fleet: 10,000 stations and 1,000,000 meter samples.

Seeds a fresh database (SQLite by default; ``--database-url`` a PostgreSQL database whose
``public`` schema is dropped and migrated), logs an admin in through the real app and times the
overview, its live figures, the station list (plain, searched, filtered) and a station's page
and fragments, server side, through ``TestClient`` (no network).

    .venv/bin/python benchmarks/dashboard_pages.py
    .venv/bin/python benchmarks/dashboard_pages.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/chargeline_bench
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from app.ca.tables import IssuedCertificateRow
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.platform import build_platform
from app.settings import Settings
from charging.tables import Connector, MeterSampleRow, SecurityEventRow, Station, Transaction
from enrollment.tables import DeviceRow, HardwareFamilyRow, MacRangeRow
from tests.dashboard.pages import log_in

BATCH = 20_000
PATHS = (
    "/",
    "/overview/figures",
    "/stations",
    "/stations?offset=9000",
    "/stations?q=st-0042",
    "/stations?q=model-b",
    "/stations?state=faulted",
    "/stations?state=online&family=family-1",
    "/stations/{station}",
    "/stations/{station}/connectors",
    "/stations/{station}/sessions",
)


def batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def put(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    for batch in batches(rows):
        with engine.begin() as connection:
            connection.execute(insert(table.__table__), batch)


def seed(engine: Engine, stations: int, samples: int, now: datetime) -> None:
    rnd = random.Random(7)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ids = [f"ST-{n:05d}" for n in range(stations)]
    put(
        engine,
        HardwareFamilyRow,
        (
            {"id": f, "name": f"family-{f}", "vendor": "ACME", "model": f"M{f}",
             "ocpp_version": "1.6", "default_channel": "stable", "created_at": now}
            for f in (1, 2, 3)
        ),
    )  # fmt: skip
    put(engine, MacRangeRow, iter([{"id": 1, "first": 0, "last": 2**40, "next_index": 0,
                                    "created_at": now}]))  # fmt: skip
    put(
        engine,
        Station,
        (
            {"id": sid, "vendor": "ACME", "model": f"model-{'abc'[n % 3]}",
             "serial_number": f"SN{n:07d}", "firmware_version": f"1.{n % 4}.0",
             "ocpp_version": "1.6", "security_profile": 1 + n % 3, "online": n % 5 != 0,
             "pending": False, "last_seen_at": now, "registered_at": now, "created_at": now}
            for n, sid in enumerate(ids)
        ),
    )  # fmt: skip
    put(
        engine,
        DeviceRow,
        (
            {"serial": sid, "family_id": 1 + n % 3, "lot": "LOT-1", "metadata_json": "{}",
             "mac": n, "mac_range_id": 1, "state": "enrolled", "device_code_hash": "0" * 64,
             "packaging_code_hash": "1" * 64, "created_at": now, "updated_at": now}
            for n, sid in enumerate(ids)
            if n % 10
        ),
    )  # fmt: skip
    put(
        engine,
        Connector,
        (
            {"station_id": sid, "evse_id": evse, "connector_id": 1, "updated_at": now,
             "status": "Faulted" if rnd.random() < 0.01 else rnd.choice(["Available", "Occupied"])}
            for sid in ids
            for evse in (1, 2)
        ),
    )  # fmt: skip
    active = stations // 10
    finished = stations * 2
    per_session = samples // (active + finished)

    def sessions() -> Iterator[dict[str, Any]]:
        for n in range(finished + active):
            running = n >= finished
            started = (midnight + timedelta(minutes=n % 600)) if running else (
                now - timedelta(hours=rnd.randint(1, 240))
            )  # fmt: skip
            energy = None if running else float(rnd.randint(1000, 40000))
            yield {
                "id": n + 1, "transaction_ref": str(n + 1), "station_id": ids[n % stations],
                "evse_id": 1, "connector_id": 1, "id_token": f"CARD-{n % 500}",
                "started_at": started, "meter_start_wh": 0.0,
                "ended_at": None if running else started + timedelta(hours=1),
                "meter_stop_wh": energy, "energy_wh": energy,
                "state": "active" if running else "ended",
            }  # fmt: skip

    put(engine, Transaction, sessions())

    def readings() -> Iterator[dict[str, Any]]:
        for n in range(finished + active):
            base = now - timedelta(hours=2)
            for k in range(per_session // 2):
                at = base + timedelta(seconds=30 * k)
                common = {"transaction_id": n + 1, "station_id": ids[n % stations], "evse_id": 1,
                          "timestamp": at, "phase": None, "context": None}  # fmt: skip
                yield {**common, "measurand": "Energy.Active.Import.Register",
                       "value": 10.0 * k, "unit": "Wh"}  # fmt: skip
                yield {**common, "measurand": "Power.Active.Import", "value": 7000.0, "unit": "W"}

    put(engine, MeterSampleRow, readings())
    put(
        engine,
        IssuedCertificateRow,
        (
            {"serial_hex": f"{n:016X}", "issuer_role": "station", "profile": "station",
             "subject_cn": sid, "station_id": sid, "not_before": now - timedelta(days=300),
             "not_after": now + timedelta(days=rnd.randint(1, 700)), "status": "issued",
             "certificate_pem": "-", "created_at": now}
            for n, sid in enumerate(ids)
        ),
    )  # fmt: skip
    put(
        engine,
        SecurityEventRow,
        (
            {"station_id": ids[n % stations], "type": "SettingSystemTime",
             "timestamp": now - timedelta(seconds=n), "tech_info": None, "received_at": now}
            for n in range(stations * 2)
        ),
    )  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
            for table in ("transactions", "meter_samples", "security_events"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
                )  # fmt: skip


def fresh(url: str | None, tmp: Path) -> str:
    if url is None:
        return f"sqlite:///{tmp / 'bench.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = fresh(args.database_url, tmp)
        engine = make_engine(url)
        upgrade(engine)
        now = datetime.now(UTC)
        began = time.perf_counter()
        seed(engine, args.stations, args.samples, now)
        engine.dispose()
        print(f"seeded in {time.perf_counter() - began:.0f} s ({engine.dialect.name})")
        settings = Settings(
            mode="production",
            data_dir=tmp / "var",
            database_url=url,
            secret_key=secrets.token_urlsafe(32),
            api_port=0,
        )  # type: ignore[call-arg]
        platform = build_platform(settings)
        with TestClient(create_app(platform=platform)) as client:
            log_in(platform, client, "admin")
            print(f"| path | median ms | max ms | ({args.runs} runs after 3 warm-ups) |")
            print("|---|---|---|---|")
            middle = f"ST-{args.stations // 2:05d}"
            for path in (p.format(station=middle) for p in PATHS):
                for _ in range(3):
                    warm = client.get(path)
                    assert warm.status_code == 200 and "<h1>Log in" not in warm.text, path
                times = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200
                print(f"| `{path}` | {statistics.median(times):.1f} | {max(times):.1f} | |")
        platform.close()


if __name__ == "__main__":
    main()
