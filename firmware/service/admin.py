"""What an admin does to rollouts: preview, create, start, pause, resume, abort, cancel,
roll back, and the standing "keep current" rollout. Each function works in the caller's session
and leaves the commit to it (the router audits in the same transaction).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from enrollment.tables import HardwareFamilyRow
from firmware.rollout import planner, waves
from firmware.rollout.messages import CancelWaiting, RolloutAction
from firmware.rollout.policy import RolloutPolicy, policy_from_dict, policy_to_dict
from firmware.rollout.states import (
    FINAL_ROLLOUT_STATES,
    IN_FLIGHT_TARGET_STATES,
    InvalidTransition,
    RolloutState,
    TargetState,
)
from firmware.rollout_tables import (
    ActiveTargetRow,
    RolloutRow,
    RolloutTargetRow,
    RolloutWaveRow,
)
from firmware.service.candidates import (
    Candidate,
    family_candidates,
    find_family,
)
from firmware.service.errors import (
    DowngradeRefused,
    NothingToRollBack,
    RolloutNotFound,
    RolloutRefused,
    TargetsOverlap,
)
from firmware.service.rollout_state import (
    apply_actions,
    store_rollout,
    to_rollout,
    wave_counts,
)
from firmware.tables import FirmwareChannelRow, FirmwareImageRow
from firmware.versions import is_newer, same_version

KINDS = ("rollout", "rollback", "keep_current")
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class PlannedTarget:
    station_id: str
    wave: int
    skipped: bool
    firmware_version: str | None


@dataclass
class Plan:
    """The exact waves a rollout would run (exponential waves assume every station succeeds)."""

    family: HardwareFamilyRow
    image: FirmwareImageRow | None
    policy: RolloutPolicy
    targets: list[PlannedTarget]
    wave_sizes: list[int]
    skipped: int = 0
    downgrades: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.targets)


def _policy(data: object) -> RolloutPolicy:
    try:
        return policy_from_dict(data)
    except ValueError as exc:  # PolicyError names the field
        name = getattr(exc, "field", "")
        raise RolloutRefused(
            f"policy.{name}" if name else "policy", getattr(exc, "message", str(exc))
        ) from None


def plan_rollout(session: Session, *, image_id: int | None, policy: object) -> Plan:
    """Resolve the family, the image and the targets of a rollout, without writing anything.

    Raises:
        RolloutRefused: the policy, the family or the image is not acceptable (names the field).
    """
    parsed = _policy(policy)
    family = find_family(session, parsed.selection.family)
    if family is None:
        raise RolloutRefused(
            "policy.selection.family", f"no hardware family {parsed.selection.family!r}"
        )
    image = None
    if image_id is not None:
        image = session.get(FirmwareImageRow, image_id)
        if image is None:
            raise RolloutRefused("image_id", f"no firmware image {image_id}")
        if image.family_id != family.id:
            raise RolloutRefused(
                "image_id", f"image {image_id} is for another family than {family.name}"
            )
        if not image.signature and not parsed.allow_unsigned:
            raise RolloutRefused(
                "image_id", f"image {image.version} is unsigned; the policy does not allow_unsigned"
            )
    selects = planner.Selector(replace(parsed.selection, family=family.name))
    chosen = [
        c
        for c in family_candidates(session, family, stations=parsed.selection.stations)
        if selects(
            planner.Candidate(c.station_id, family.name, c.channel, c.firmware_version, c.lot)
        )
    ]
    return _assign(family, image, parsed, chosen)


def _assign(
    family: HardwareFamilyRow,
    image: FirmwareImageRow | None,
    policy: RolloutPolicy,
    chosen: Sequence[Candidate],
) -> Plan:
    """Waves over the chosen stations that are not on the image's version already."""

    def up_to_date(c: Candidate) -> bool:
        return (
            image is not None
            and c.firmware_version is not None
            and same_version(c.firmware_version, image.version)
        )

    live = [c for c in chosen if not up_to_date(c)]
    downgrades = [
        c.station_id
        for c in live
        if image is not None
        and c.firmware_version is not None
        and is_newer(c.firmware_version, image.version)
    ]
    selection = replace(policy.selection, family=family.name)
    engine_candidates = [
        planner.Candidate(c.station_id, family.name, c.channel, c.firmware_version, c.lot)
        for c in live
    ]
    versions = {c.station_id: c.firmware_version for c in live}
    targets = [
        PlannedTarget(station_id, wave, False, versions[station_id])
        for station_id, wave in planner.assign(
            engine_candidates, selection, policy.waves, total=len(live)
        )
    ]
    sizes = waves.preview(len(targets), policy.waves)
    skipped = [
        PlannedTarget(c.station_id, 0, True, c.firmware_version) for c in chosen if up_to_date(c)
    ]
    return Plan(family, image, policy, targets + skipped, sizes, len(skipped), downgrades)


def create_rollout(
    session: Session,
    *,
    name: str,
    image_id: int | None,
    policy: object,
    created_by: str,
    now: datetime,
    kind: str = "rollout",
    rollback_of: int | None = None,
) -> RolloutRow:
    """Plan and store a draft rollout with its waves and targets, holding its stations.

    Raises:
        RolloutRefused, DowngradeRefused: the request is not acceptable (names the field).
        TargetsOverlap: some stations are held by another unfinished rollout (none is held by
            this one then: the caller's transaction is rolled back).
    """
    if kind not in KINDS:
        raise RolloutRefused("kind", f"one of {', '.join(KINDS)}")
    if not name.strip() or len(name) > 120:
        raise RolloutRefused("name", "1 to 120 characters")
    plan = plan_rollout(session, image_id=image_id, policy=policy)
    if plan.image is None:
        raise RolloutRefused("image_id", "a rollout needs an image")
    if plan.downgrades and not plan.policy.allow_downgrade:
        raise DowngradeRefused(plan.image.version, plan.downgrades)
    live = [t for t in plan.targets if not t.skipped]
    _refuse_overlap(session, [t.station_id for t in live])
    rollout = RolloutRow(
        name=name.strip(),
        kind=kind,
        image_id=plan.image.id,
        family_id=plan.family.id or 0,
        rollback_of=rollback_of,
        policy=json.dumps(policy_to_dict(plan.policy)),
        state=RolloutState.DRAFT,
        wave_count=len(plan.wave_sizes),
        wave_sizes=json.dumps(plan.wave_sizes),
        target_count=len(live),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(rollout)
    session.flush()
    assert rollout.id is not None
    for index, size in enumerate(plan.wave_sizes):
        session.add(RolloutWaveRow(rollout_id=rollout.id, index=index, size=size))
    _insert_targets(session, rollout.id, plan, now)
    return rollout


def _refuse_overlap(session: Session, stations: Sequence[str]) -> None:
    held: list[tuple[str, int]] = []
    for start in range(0, len(stations), _CHUNK):
        chunk = stations[start : start + _CHUNK]
        held += [
            (row.station_id, row.rollout_id)
            for row in session.exec(
                select(ActiveTargetRow).where(col(ActiveTargetRow.station_id).in_(chunk))
            )
        ]
    if held:
        raise TargetsOverlap(sorted(s for s, _ in held), [r for _, r in held])


def _insert_targets(session: Session, rollout_id: int, plan: Plan, now: datetime) -> None:
    rows: list[dict[str, Any]] = []
    holds: list[dict[str, Any]] = []
    for t in plan.targets:
        rows.append(
            {
                "rollout_id": rollout_id,
                "station_id": t.station_id,
                "wave": t.wave,
                "state": TargetState.SKIPPED if t.skipped else TargetState.PENDING,
                "attempts": 0,
                "signed": bool(plan.image and plan.image.signature),
                "detail": "already on the version" if t.skipped else "",
                "old_version": t.firmware_version,
                "report_cursor": 0,
                "machine": "{}",
                "created_at": now,
                "updated_at": now,
            }
        )
        if not t.skipped:
            holds.append({"station_id": t.station_id, "rollout_id": rollout_id, "created_at": now})
    for start in range(0, len(rows), _CHUNK):
        session.execute(RolloutTargetRow.__table__.insert(), rows[start : start + _CHUNK])  # type: ignore[attr-defined]
    try:
        with session.begin_nested():
            for start in range(0, len(holds), _CHUNK):
                session.execute(ActiveTargetRow.__table__.insert(), holds[start : start + _CHUNK])  # type: ignore[attr-defined]
    except IntegrityError:
        # Another rollout took some of these stations between the check and the insert.
        stations = [h["station_id"] for h in holds]
        _refuse_overlap(session, stations)
        raise


def get_rollout(session: Session, rollout_id: int, *, lock: bool = False) -> RolloutRow:
    query = select(RolloutRow).where(col(RolloutRow.id) == rollout_id)
    if lock:
        query = query.with_for_update()
    rollout = session.exec(query).first()
    if rollout is None:
        raise RolloutNotFound(rollout_id)
    return rollout


def move_rollout(
    session: Session,
    rollout_id: int,
    requested: str,
    *,
    now: datetime,
    reason: str = "",
    image_id: int | None = None,
) -> RolloutRow:
    """``start``, ``pause``, ``resume`` (optionally with a replacement image), ``abort`` or
    ``cancel`` the rollout, through the engine's machine.

    Raises:
        RolloutNotFound; InvalidTransition: not a legal move from the current state;
        RolloutRefused: the replacement image does not fit, or the move needs none.
    """
    row = get_rollout(session, rollout_id, lock=True)
    if image_id is not None and requested != "resume":
        raise RolloutRefused("image_id", "only a resume takes a replacement image")
    if row.kind == "keep_current":
        return _move_standing(session, row, requested, now=now, reason=reason)
    machine = to_rollout(row)
    actions: list[RolloutAction]
    if requested == "start":
        actions = machine.start(now)
    elif requested == "pause":
        actions = machine.pause(reason or "paused by an admin", now)
    elif requested == "resume":
        if image_id is not None and machine.state is RolloutState.PAUSED:
            _replace_image(session, row, image_id)
        actions = machine.resume(now, wave_counts(session, rollout_id, machine.wave_index))
    elif requested == "abort":
        actions = machine.abort(reason or "aborted by an admin", now)
    elif requested == "cancel":
        actions = machine.cancel(now)
    else:
        raise RolloutRefused("action", f"unknown action {requested!r}")
    store_rollout(row, machine, now)
    apply_actions(session, row, actions, now)
    session.add(row)
    return row


def _move_standing(
    session: Session, row: RolloutRow, requested: str, *, now: datetime, reason: str
) -> RolloutRow:
    """A keep-current rollout has no waves: it runs, pauses, resumes or ends."""
    moves = {
        "pause": ({RolloutState.RUNNING}, RolloutState.PAUSED),
        "resume": ({RolloutState.PAUSED}, RolloutState.RUNNING),
        "abort": ({RolloutState.RUNNING, RolloutState.PAUSED}, RolloutState.ABORTED),
        "cancel": ({RolloutState.RUNNING, RolloutState.PAUSED}, RolloutState.CANCELLED),
    }
    if requested not in moves or row.state not in moves[requested][0]:
        raise InvalidTransition(row.state, requested)
    row.state = moves[requested][1]
    row.reason = reason[:500]
    row.updated_at = now
    if row.state in FINAL_ROLLOUT_STATES:
        row.ended_at = now
        apply_actions(session, row, [CancelWaiting()], now)
    session.add(row)
    return row


def _replace_image(session: Session, rollout: RolloutRow, image_id: int) -> None:
    image = session.get(FirmwareImageRow, image_id)
    if image is None:
        raise RolloutRefused("image_id", f"no firmware image {image_id}")
    if image.family_id != rollout.family_id:
        raise RolloutRefused("image_id", f"image {image_id} is for another family")
    policy = policy_from_dict(json.loads(rollout.policy))
    if not image.signature and not policy.allow_unsigned:
        raise RolloutRefused("image_id", f"image {image.version} is unsigned")
    rollout.image_id = image_id


def release_stations(
    session: Session, rollout_id: int, stations: Sequence[str] | None = None
) -> None:
    query = delete(ActiveTargetRow).where(col(ActiveTargetRow.rollout_id) == rollout_id)
    if stations is not None:
        query = query.where(col(ActiveTargetRow.station_id).in_(list(stations)))
    session.execute(query)


def rollback_rollout(
    session: Session,
    rollout_id: int,
    *,
    created_by: str,
    now: datetime,
    policy: object | None = None,
) -> RolloutRow:
    """A rollout of the previous image to the stations that took this rollout's image.

    The previous image is the one of the version most of those stations ran before; stations
    that came from another version stay where they are.

    Raises:
        NothingToRollBack: no station took the image, or the previous version has no image.
        InvalidTransition: the rollout is still running (pause or abort it first).
    """
    rollout = get_rollout(session, rollout_id, lock=True)
    if rollout.state == RolloutState.RUNNING:
        raise InvalidTransition(rollout.state, "roll back")
    took = list(
        session.exec(
            select(RolloutTargetRow).where(
                col(RolloutTargetRow.rollout_id) == rollout_id,
                col(RolloutTargetRow.state).in_(
                    [TargetState.SUCCEEDED, TargetState.INSTALLED, *IN_FLIGHT_TARGET_STATES]
                ),
                col(RolloutTargetRow.old_version).is_not(None),
            )
        )
    )
    if not took:
        raise NothingToRollBack("rollout_id", f"no station of rollout {rollout_id} took its image")
    version, _ = Counter(t.old_version for t in took).most_common(1)[0]
    image = session.exec(
        select(FirmwareImageRow).where(
            col(FirmwareImageRow.family_id) == rollout.family_id,
            col(FirmwareImageRow.version) == version,
        )
    ).first()
    if image is None:
        raise NothingToRollBack(
            "rollout_id", f"there is no image of the previous version {version}"
        )
    if rollout.state not in FINAL_ROLLOUT_STATES:
        move_rollout(session, rollout_id, "abort", now=now, reason="rolled back")
        session.flush()
    base = policy_from_dict(json.loads(rollout.policy)) if policy is None else _policy(policy)
    stations = tuple(sorted(t.station_id for t in took if t.old_version == version))
    selection = replace(
        base.selection, stations=stations, below_version=None, sample_percent=None, channel=None
    )
    rollback = replace(base, selection=selection, allow_downgrade=True, waves=base.waves)
    return create_rollout(
        session,
        name=f"rollback of {rollout.name}"[:120],
        image_id=image.id,
        policy=policy_to_dict(rollback),
        created_by=created_by,
        now=now,
        kind="rollback",
        rollback_of=rollout_id,
    )


def keep_current(
    session: Session, *, family: str, created_by: str, now: datetime, policy: object | None = None
) -> RolloutRow:
    """The family's standing rollout: every field station to its channel's image.

    Stations are added as the worker finds them behind their channel (stations that come
    online later included); an explicit rollout holding a station takes precedence.
    """
    family_row = find_family(session, family)
    if family_row is None:
        raise RolloutRefused("family", f"no hardware family {family!r}")
    data = (
        policy
        if policy is not None
        else {
            "selection": {"family": family_row.name},
            "waves": {"kind": "fixed", "sizes": [1000]},
        }
    )
    parsed = _policy(data)
    existing = session.exec(
        select(RolloutRow).where(
            col(RolloutRow.family_id) == family_row.id,
            col(RolloutRow.kind) == "keep_current",
            col(RolloutRow.state).not_in(list(FINAL_ROLLOUT_STATES)),
        )
    ).first()
    if existing is not None:
        raise RolloutRefused(
            "family", f"family {family_row.name} already has keep-current rollout {existing.id}"
        )
    rollout = RolloutRow(
        name=f"keep {family_row.name} current",
        kind="keep_current",
        image_id=None,
        family_id=family_row.id or 0,
        policy=json.dumps(policy_to_dict(parsed)),
        state=RolloutState.RUNNING,
        wave_count=1,
        created_by=created_by,
        created_at=now,
        started_at=now,
        updated_at=now,
    )
    session.add(rollout)
    session.flush()
    session.add(RolloutWaveRow(rollout_id=rollout.id or 0, index=0, size=0, started_at=now))
    return rollout


def channel_image(session: Session, family_id: int, channel: str) -> FirmwareImageRow | None:
    row = session.exec(
        select(FirmwareChannelRow).where(
            col(FirmwareChannelRow.family_id) == family_id, col(FirmwareChannelRow.name) == channel
        )
    ).first()
    if row is None or row.image_id is None:
        return None
    return session.get(FirmwareImageRow, row.image_id)


def plan_to_preview(plan: Plan, *, sample: int = 20) -> dict[str, Any]:
    """The preview's JSON: each wave's size and its first stations, and the counts."""
    waves: list[dict[str, Any]] = [
        {"index": i, "size": size, "stations": []} for i, size in enumerate(plan.wave_sizes)
    ]
    for t in plan.targets:
        if not t.skipped and len(waves[t.wave]["stations"]) < sample:
            waves[t.wave]["stations"].append(t.station_id)
    return {
        "family": plan.family.name,
        "image_id": None if plan.image is None else plan.image.id,
        "version": None if plan.image is None else plan.image.version,
        "targets": plan.total - plan.skipped,
        "skipped": plan.skipped,
        "downgrades": len(plan.downgrades),
        "waves": waves,
        "wave_plan": plan.policy.waves.kind,
    }
