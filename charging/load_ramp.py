"""What to push to the stations after a site recompute: decreases at once, increases ramped.

A recompute (:func:`charging.load_sharing.allocate`) gives each session its target current.
Pushing a lower limit is always safe and happens at once. Raising limits everywhere at once
would make every car ramp up together and overshoot a site meter that lags, so an increase is
limited to :attr:`RampPolicy.max_step` amperes per :attr:`RampPolicy.interval` per session:
a session whose limit was raised less than ``interval`` ago keeps its limit (or goes down) until
the interval has passed. Defaults: 6 A per 30 s, so a car goes from 6 A to 32 A in five steps
(two minutes) while a decrease takes effect on the next push.

A session that starts (or leaves the waiting list) is pushed its target up to
``max(first_step, max_step)`` at once (the allocation reserved its minimum for it; pass the
minimum current as ``first_step``); it then ramps like the others. Because every pushed
current is at most the session's target, and the targets keep each phase under its limit,
the pushed currents keep each phase under its limit too, whatever the previous state was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from charging.load_sharing import ActiveSession, Allocation, Site, SiteLimit, allocate


@dataclass(frozen=True, slots=True)
class RampPolicy:
    max_step: float = 6.0
    """The most a session's limit rises per interval, in amperes."""
    interval: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        if not self.max_step > 0 or self.interval <= timedelta(0):
            raise ValueError("a ramp needs a positive step and a positive interval")


@dataclass(frozen=True, slots=True)
class PushedLimit:
    amps: float
    raised_at: datetime | None
    """When the limit last went up (None: never raised, e.g. the session's first limit)."""


@dataclass(frozen=True, slots=True)
class Pushed:
    """The limits currently pushed to the sessions, and the ones that changed this time."""

    limits: Mapping[str, PushedLimit] = field(default_factory=dict)
    changed: Mapping[str, float] = field(default_factory=dict)
    """Sessions whose limit differs from the last push (to send a profile for)."""


def ramp(
    previous: Pushed,
    targets: Mapping[str, float],
    *,
    policy: RampPolicy,
    now: datetime,
    first_step: float | None = None,
) -> Pushed:
    """The next limits to push, given the last ones and the new targets.

    Sessions not in ``targets`` have ended and are dropped. ``first_step`` (default
    ``policy.max_step``) is how far a new session's first limit may go, raised to its target
    at most; pass the station's minimum current when it is larger than the step.
    """
    start = policy.max_step if first_step is None else max(first_step, policy.max_step)
    limits: dict[str, PushedLimit] = {}
    changed: dict[str, float] = {}
    for session_id, target in targets.items():
        last = previous.limits.get(session_id)
        if last is None:
            amps = min(target, start)
            limits[session_id] = PushedLimit(amps, now if amps > 0 else None)
            changed[session_id] = amps
            continue
        if target <= last.amps:
            limits[session_id] = PushedLimit(target, last.raised_at)
        elif last.raised_at is None or now - last.raised_at >= policy.interval:
            limits[session_id] = PushedLimit(
                min(target, max(last.amps + policy.max_step, start)), now
            )
        else:
            limits[session_id] = last
        if limits[session_id].amps != last.amps:
            changed[session_id] = limits[session_id].amps
    return Pushed(limits, changed)


def recompute(
    site: Site,
    sessions: Sequence[ActiveSession],
    *,
    previous: Pushed,
    policy: RampPolicy,
    now: datetime,
    limit: SiteLimit | None = None,
) -> tuple[Allocation, Pushed]:
    """One recompute (a session started or stopped, the meter changed): targets, then pushes.

    ``limit`` is the budget of the moment (:func:`charging.site_budget.meter_budget`), the
    site's static limit by default. A new session's first push may reach the largest minimum
    current on the site at once (never more than its target).
    """
    allocation = allocate(site, sessions, limit=limit)
    first_step = max((s.min_current for s in site.stations.values()), default=policy.max_step)
    pushed = ramp(previous, allocation.currents, policy=policy, now=now, first_step=first_step)
    return allocation, pushed
