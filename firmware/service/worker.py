"""The rollout worker's loop: judge running rollouts, find keep-current work, step targets.

Every round: on SQLite take (or renew) the lease first, and do nothing without it; tick every
running rollout whose row this worker can lock; add keep-current targets; claim a batch of due
targets and step each (decide, send, answer). All state is in the database, so any worker can
stop at any point and another carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from common.clock import as_utc, utcnow
from firmware.rollout.states import IN_FLIGHT_TARGET_STATES, RolloutState, TargetState
from firmware.rollout_tables import RolloutRow
from firmware.service import claims
from firmware.service.health import wave_samples
from firmware.service.keep_current import sweep
from firmware.service.ports import LocationIssuer, LogLocations, RootSource, StationLink
from firmware.service.rollout_state import (
    apply_actions,
    mark_soak,
    store_rollout,
    to_rollout,
    wave_counts,
)
from firmware.service.stepper import TargetStepper

log = logging.getLogger(__name__)

DUE_STATES = (TargetState.WAITING.value, *(s.value for s in IN_FLIGHT_TARGET_STATES))


class RolloutWorker:
    """Runs rollouts; ``holder`` names this worker in leases and claims."""

    def __init__(
        self,
        engine: Engine,
        link: StationLink,
        locations: LocationIssuer,
        roots: RootSource,
        *,
        holder: str | None = None,
        logs: LogLocations | None = None,
        interval: float = 1.0,
        claim_ttl: timedelta = timedelta(seconds=30),
        batch: int = 200,
        concurrency: int = 50,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.holder = holder or f"worker-{uuid.uuid4().hex[:12]}"
        self.interval = interval
        self.claim_ttl = claim_ttl
        self.batch = batch
        self.clock = clock
        self.stepper = TargetStepper(engine, link, locations, roots, holder=self.holder, logs=logs)
        self._limit = asyncio.Semaphore(concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop`` is set; a failing round is logged and the next one runs."""
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("a rollout round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            if claims.uses_lease(self.engine):
                await asyncio.to_thread(claims.release_lease, self.engine, self.holder)

    async def run_once(self) -> int:
        """One round; returns the number of targets stepped (0 without the lease)."""
        now = self.clock()
        if claims.uses_lease(self.engine) and not await asyncio.to_thread(
            claims.acquire_lease, self.engine, self.holder, now=now, ttl=self.claim_ttl
        ):
            return 0
        await asyncio.to_thread(self.tick_rollouts, now)
        await asyncio.to_thread(sweep, self.engine, now)
        ids = await asyncio.to_thread(
            claims.claim_targets,
            self.engine,
            self.holder,
            states=DUE_STATES,
            watched=[s.value for s in IN_FLIGHT_TARGET_STATES],
            now=now,
            ttl=self.claim_ttl,
            limit=self.batch,
        )
        await asyncio.gather(*(self._step(target_id) for target_id in ids))
        await asyncio.to_thread(claims.release_claims, self.engine, self.holder, ids)
        return len(ids)

    async def _step(self, target_id: int) -> None:
        async with self._limit:
            try:
                pending = await asyncio.to_thread(self.stepper.decide, target_id, self.clock())
                if pending is None:
                    return
                policy = await asyncio.to_thread(self.stepper.policy_of, pending)
                answer = await self.stepper.send(pending, policy)
                await asyncio.to_thread(self.stepper.answer, pending, answer, self.clock())
            except Exception:
                log.exception("stepping rollout target %s failed", target_id)

    def tick_rollouts(self, now: datetime) -> None:
        with Session(self.engine) as session:
            ids = list(
                session.exec(
                    select(RolloutRow.id).where(
                        col(RolloutRow.state) == RolloutState.RUNNING,
                        col(RolloutRow.kind) != "keep_current",
                    )
                )
            )
        for rollout_id in ids:
            if rollout_id is not None:
                self._tick(rollout_id, now)

    def _tick(self, rollout_id: int, now: datetime) -> None:
        with Session(self.engine) as session:
            row = claims.lock_rollout(session, rollout_id)
            if row is None or row.state != RolloutState.RUNNING:
                return
            machine = to_rollout(row)
            counts = wave_counts(session, rollout_id, machine.wave_index)
            baseline = observed = None
            soak = machine.soak_started_at
            if machine.policy.health is not None and soak is not None:
                started = as_utc(machine.wave_started_at) or soak
                baseline, observed = wave_samples(
                    session,
                    rollout_id,
                    machine.wave_index,
                    wave_started_at=started,
                    soak_started_at=soak,
                    now=now,
                )
            actions = machine.tick(now, counts, baseline=baseline, observed=observed)
            if machine.soak_started_at is not None and soak is None:
                mark_soak(session, rollout_id, machine.wave_index, machine.soak_started_at)
            store_rollout(row, machine, now)
            row.ticked_at = now
            apply_actions(session, row, actions, now)
            session.add(row)
            session.commit()
