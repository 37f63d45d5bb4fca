"""Device registrations per second: one line script, and many at once, on SQLite and PostgreSQL.

Each registration is the full service path the API and CLI run: the idempotency lookup, two
fresh security codes, their HMAC hashes, the sealed label codes (AES-GCM), the MAC address from
the pool's counter row (``UPDATE ... RETURNING``), the insert, the audit entry and the commit,
in one transaction. "concurrent" runs ``--threads`` workers with a session each; every
registration of every run lands on the same MAC range, so the counter row is the point of
contention the measurement is about. "replay" registers serials that exist (the retrying script).

PostgreSQL is measured when ``CHARGELINE_BENCH_DATABASE_URL`` (or
``CHARGELINE_TEST_DATABASE_URL``) names a database it may wipe.

Run: ``python benchmarks/registration.py [--count 500] [--threads 16]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import audit
from app.db import make_engine
from app.migrate import upgrade
from common.clock import utcnow
from enrollment import repository, service
from enrollment.csv_import import Registration
from enrollment.identifiers import MacRange
from enrollment.sealing import SecretKeys

KEYS = SecretKeys.from_secrets("benchmark-secret-0123456789-0123456789")
ACTOR = audit.Actor("benchmark")


def prepare(engine: Engine) -> None:
    with Session(engine) as session:
        repository.add_family(
            session,
            name="bench",
            vendor="B",
            model="B1",
            ocpp_version="2.0.1",
            default_channel="stable",
        )
        repository.add_mac_range(session, MacRange.parse("02:00:00:00:00:00-02:00:00:FF:FF:FF"))
        session.commit()


def register(engine: Engine, serial: str) -> None:
    with Session(engine) as session:
        service.register_device(
            session,
            Registration(serial, "bench", "LOT-B"),
            keys=KEYS,
            actor=ACTOR,
            now=utcnow(),
            audit=audit.record,
        )
        session.commit()


def timed(run: Callable[[], None], count: int) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def measure(name: str, engine: Engine, count: int, threads: int) -> None:
    prepare(engine)
    single = timed(lambda: [register(engine, f"S-{n:06d}") for n in range(count)] and None, count)

    def concurrent() -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda n: register(engine, f"C-{n:06d}"), range(count)))

    parallel = timed(concurrent, count)
    replay = timed(lambda: [register(engine, f"S-{n:06d}") for n in range(count)] and None, count)
    print(
        f"{name:<11} single {single:8.0f}/s   concurrent x{threads} {parallel:8.0f}/s   "
        f"replay {replay:8.0f}/s"
    )


def wipe_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    print(f"{args.count} registrations per run")
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        upgrade(engine)
        measure("SQLite", engine, args.count, args.threads)
        engine.dispose()
    url = os.environ.get("CHARGELINE_BENCH_DATABASE_URL") or os.environ.get(
        "CHARGELINE_TEST_DATABASE_URL"
    )
    if url:
        engine = wipe_postgres(url)
        measure("PostgreSQL", engine, args.count, args.threads)
        engine.dispose()
    else:
        print("PostgreSQL  skipped: set CHARGELINE_BENCH_DATABASE_URL")


if __name__ == "__main__":
    main()
