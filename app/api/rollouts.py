"""Firmware rollouts (admin): preview, create, start, pause, resume, abort, cancel, roll back,
the standing keep-current rollout, and progress per wave and per station."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import audit, rollout_admin
from app.api.bounds import NonNegativeInt32
from app.api.pagination import Page, PageQuery, paginate
from app.deps import ActorDep, AdminPrincipal, NowDep, SessionDep
from firmware.rollout_tables import RolloutRow
from firmware.service import admin, progress

router = APIRouter(prefix="/api/v1", tags=["firmware rollouts"])

Action = Literal["start", "pause", "resume", "abort", "cancel"]


class RolloutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    image_id: NonNegativeInt32
    policy: dict[str, Any]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_id: NonNegativeInt32
    policy: dict[str, Any]


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)
    image_id: NonNegativeInt32 | None = None  # resume only: a replacement image


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: dict[str, Any] | None = None


class KeepCurrentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str = Field(min_length=1, max_length=64)
    policy: dict[str, Any] | None = None


class WavePublic(BaseModel):
    index: int
    size: int
    started_at: datetime | None
    soak_started_at: datetime | None
    ended_at: datetime | None
    verdict: str | None
    counts: dict[str, int]


class RolloutPublic(BaseModel):
    id: int
    name: str
    kind: str
    image_id: int | None
    family_id: int
    rollback_of: int | None
    state: str
    outcome: str | None
    reason: str
    wave_index: int
    wave_count: int
    target_count: int
    policy: dict[str, Any]
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    counts: dict[str, int]
    waves: list[WavePublic]
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


class TargetPublic(BaseModel):
    station_id: str
    wave: int
    state: str
    request_id: int | None
    attempts: int
    failure: str | None
    detail: str
    old_version: str | None
    new_version: str | None
    sent_at: datetime | None
    last_report_at: datetime | None
    updated_at: datetime


def _links(rollout_id: int, state: str) -> dict[str, dict[str, str]]:
    base = f"/api/v1/rollouts/{rollout_id}"
    links = {"self": {"href": base}, "targets": {"href": f"{base}/targets"}}
    actions = {
        "draft": ("start", "cancel"),
        "running": ("pause", "abort", "cancel"),
        "paused": ("resume", "abort", "cancel", "rollback"),
    }.get(state, ("rollback",))
    for action in actions:
        links[action] = {"href": f"{base}/{action}", "method": "POST"}
    return links


def _public(session: Session, row: RolloutRow) -> RolloutPublic:
    assert row.id is not None
    counts = progress.progress_of(session, row.id)
    waves = [
        WavePublic(
            index=w.index,
            size=w.size,
            started_at=w.started_at,
            soak_started_at=w.soak_started_at,
            ended_at=w.ended_at,
            verdict=w.verdict,
            counts=counts.per_wave.get(w.index, {}),
        )
        for w in progress.waves_of(session, row.id)
    ]
    return RolloutPublic(
        id=row.id,
        name=row.name,
        kind=row.kind,
        image_id=row.image_id,
        family_id=row.family_id,
        rollback_of=row.rollback_of,
        state=row.state,
        outcome=row.outcome,
        reason=row.reason,
        wave_index=row.wave_index,
        wave_count=row.wave_count,
        target_count=row.target_count,
        policy=json.loads(row.policy),
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        counts=counts.totals,
        waves=waves,
        links=_links(row.id, row.state),
    )


def _audit(
    session: Session, actor: audit.Actor, action: str, row: RolloutRow, **detail: Any
) -> None:
    rollout_admin.record(session, actor, action, row, **detail)


@router.post("/rollouts/preview", summary="Preview a rollout's waves (admin)")
def preview_rollout(
    body: PreviewRequest, session: SessionDep, _admin: AdminPrincipal
) -> dict[str, Any]:
    plan = admin.plan_rollout(session, image_id=body.image_id, policy=body.policy)
    return admin.plan_to_preview(plan)


@router.post(
    "/rollouts", status_code=201, summary="Create a rollout (admin)", response_model_by_alias=True
)
def create_rollout(
    body: RolloutCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep, now: NowDep
) -> RolloutPublic:
    row = rollout_admin.create(
        session, actor, name=body.name, image_id=body.image_id, policy=body.policy, now=now
    )
    return _public(session, row)


@router.post(
    "/rollouts/keep-current",
    status_code=201,
    summary="Keep a family's stations on their channel's image (admin)",
    response_model_by_alias=True,
)
def keep_current(
    body: KeepCurrentRequest,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
    now: NowDep,
) -> RolloutPublic:
    row = admin.keep_current(
        session, family=body.family, created_by=actor.name, now=now, policy=body.policy
    )
    session.flush()
    _audit(session, actor, "keep_current", row, family=body.family)
    return _public(session, row)


@router.get("/rollouts", summary="Rollouts, newest first (admin)", response_model_by_alias=True)
def list_rollouts(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    state: str | None = Query(default=None, max_length=16),
) -> Page[RolloutPublic]:
    rows, total, links = paginate(session, progress.rollouts_query(state), page, request)
    return Page(
        items=[_public(session, row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.get(
    "/rollouts/{rollout_id}",
    summary="A rollout and its progress per wave (admin)",
    response_model_by_alias=True,
)
def get_rollout(
    rollout_id: NonNegativeInt32, session: SessionDep, _admin: AdminPrincipal
) -> RolloutPublic:
    return _public(session, admin.get_rollout(session, rollout_id))


@router.get(
    "/rollouts/{rollout_id}/targets",
    summary="A rollout's stations and where each stands (admin)",
    response_model_by_alias=True,
)
def list_targets(
    rollout_id: NonNegativeInt32,
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    wave: NonNegativeInt32 | None = None,
    state: str | None = Query(default=None, max_length=16),
) -> Page[TargetPublic]:
    admin.get_rollout(session, rollout_id)
    query = progress.targets_query(rollout_id, wave=wave, state=state)
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[TargetPublic.model_validate(row, from_attributes=True) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.post(
    "/rollouts/{rollout_id}/rollback",
    status_code=201,
    summary="Roll the stations that took this rollout's image back to their previous one (admin)",
    response_model_by_alias=True,
)
def rollback_rollout(
    rollout_id: NonNegativeInt32,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
    now: NowDep,
    body: RollbackRequest | None = None,
) -> RolloutPublic:
    row = rollout_admin.rollback(
        session, actor, rollout_id, now=now, policy=None if body is None else body.policy
    )
    return _public(session, row)


@router.post(
    "/rollouts/{rollout_id}/{action}",
    summary="Start, pause, resume, abort or cancel a rollout (admin)",
    response_model_by_alias=True,
)
def move_rollout(
    rollout_id: NonNegativeInt32,
    action: Action,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
    now: NowDep,
    body: MoveRequest | None = None,
) -> RolloutPublic:
    move = body or MoveRequest()
    row = rollout_admin.move(
        session, actor, rollout_id, action, now=now, reason=move.reason, image_id=move.image_id
    )
    return _public(session, row)
