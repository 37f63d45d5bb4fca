"""Run a simulated fleet in the background of a test and wait for what it does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from simulator.fleet import FleetConfig, FleetReport, SimulatedStation, run_fleet
from tests.eventually import eventually
from tests.gateway.conftest import PASSWORD, RunningGateway

__all__ = ["eventually", "one_station"]


@contextlib.asynccontextmanager
async def one_station(
    gateway: RunningGateway, protocol: str, **more: object
) -> AsyncIterator[SimulatedStation]:
    """A booted, idle station that runs until the block ends."""
    options: dict[str, object] = {
        "stations": 1,
        "protocol": protocol,
        "password": PASSWORD,
        "sessions": 0,
        "duration": 30.0,
        "speed": 100.0,
        "meter_interval": 60.0,
        "session_seconds": 6000.0,
    }
    options.update(more)
    made: list[SimulatedStation] = []
    task: asyncio.Task[FleetReport] = asyncio.create_task(
        run_fleet(FleetConfig(url=gateway.url, **options), on_station=made.append)  # type: ignore[arg-type]
    )
    await eventually(lambda: made != [] and made[0].stats.booted >= 1 or task.done())
    if task.done():
        raise AssertionError(task.result().summary())
    # the boot and the status notifications (1.6 also reports connector 0)
    await eventually(lambda: made[0].stats.messages_sent >= (3 if protocol == "1.6" else 2))
    try:
        yield made[0]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
