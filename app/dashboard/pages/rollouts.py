"""``/firmware/rollouts``: the rollouts, a form to create (and start) one, and each rollout's
planned waves with live progress per wave and per station, and its pause/resume/abort buttons.

The progress part is a fragment (``/firmware/rollouts/{id}/progress``) that refreshes on every
station event and every 5 s (rollouts also move in the worker, between station events).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app import audit, rollout_admin
from app.dashboard.auth import AdminAction, ReadView
from app.dashboard.pages.lookups import not_found, number
from app.dashboard.paging import Window, page_of, text_param, window
from app.dashboard.render import render
from app.dashboard.rollout_form import RolloutForm, field_of, read_form
from app.dashboard.session_store import Viewer
from app.deps import NowDep, SessionDep, client_address
from enrollment.tables import HardwareFamilyRow
from firmware import listing
from firmware.rollout.states import (
    FINAL_ROLLOUT_STATES,
    FINAL_TARGET_STATES,
    InvalidTransition,
    RolloutState,
    TargetState,
)
from firmware.rollout_tables import RolloutRow
from firmware.service import admin, progress
from firmware.service.errors import RolloutNotFound, RolloutRefused, TargetsOverlap
from firmware.tables import FirmwareImageRow

router = APIRouter(include_in_schema=False)

ACTIONS = {
    "draft": ("start", "cancel"),
    "running": ("pause", "abort", "cancel"),
    "paused": ("resume", "abort", "cancel", "rollback"),
    **{state.value: ("rollback",) for state in FINAL_ROLLOUT_STATES},
}
ALL_ACTIONS = frozenset(a for actions in ACTIONS.values() for a in actions)
DONE = {
    "created": "The rollout is created as a draft: start it when ready.",
    "started": "The rollout is created and started.",
    "start": "The rollout started.",
    "pause": "The rollout is paused.",
    "resume": "The rollout resumed.",
    "abort": "The rollout is aborted.",
    "cancel": "The rollout is cancelled.",
    "rollback": "This rollout takes the stations back to the version they ran before: start it.",
}
IMAGE_CHOICES = 200
TARGET_PAGE = 50
ROLLOUT_STATES = tuple(s.value for s in RolloutState)
TARGET_STATES = tuple(s.value for s in TargetState)


def _actor(request: Request, viewer: Viewer) -> audit.Actor:
    return audit.Actor(viewer.actor_name, client_address(request))


# -- the list ----------------------------------------------------------------------------------


def _names(session: Session, rows: list[RolloutRow]) -> tuple[dict[int, str], dict[int, str]]:
    """Image versions and family names of a page of rollouts (two queries at most)."""
    versions: dict[int, str] = {}
    families: dict[int, str] = {}
    image_ids = {r.image_id for r in rows if r.image_id is not None}
    if image_ids:
        query = select(FirmwareImageRow).where(col(FirmwareImageRow.id).in_(image_ids))
        versions = {image.id or 0: image.version for image in session.exec(query)}
    family_ids = {r.family_id for r in rows}
    if family_ids:
        query_f = select(HardwareFamilyRow).where(col(HardwareFamilyRow.id).in_(family_ids))
        families = {family.id or 0: family.name for family in session.exec(query_f)}
    return versions, families


@router.get("/firmware/rollouts", response_class=HTMLResponse)
def rollout_list(request: Request, viewer: ReadView, session: SessionDep) -> Response:
    state = text_param(request, "state", max_length=16)
    state = state if state in ROLLOUT_STATES else ""
    win = window(request)
    query = progress.rollouts_query(state or None).offset(win.offset).limit(win.limit + 1)
    rows = list(session.exec(query))
    versions, families = _names(session, rows[: win.limit])
    return render(
        request,
        "firmware/rollouts.html",
        viewer,
        title="Rollouts",
        rollouts=page_of(request, rows, win, total=None),
        versions=versions,
        families=families,
        state=state,
        states=[("", "any state"), *((s, s) for s in ROLLOUT_STATES)],
    )


# -- creating one ------------------------------------------------------------------------------


def _image_choices(session: Session) -> tuple[list[tuple[str, str]], dict[int, str]]:
    rows = listing.images_page(session, offset=0, limit=IMAGE_CHOICES)
    options = [
        (
            str(image.id),
            f"{image.version} ({family}{'' if image.signature else ', unsigned'})",
        )
        for image, family in rows
    ]
    return [("", "choose an image"), *options], {image.id or 0: family for image, family in rows}


def _form_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    form: RolloutForm,
    *,
    status: int = 200,
    error: str = "",
    preview: dict[str, Any] | None = None,
) -> HTMLResponse:
    options, _ = _image_choices(session)
    return render(
        request,
        "firmware/rollout_new.html",
        viewer,
        status=status,
        title="New rollout",
        form=form,
        values=form.values,
        checks=form.checks,
        errors=form.errors,
        error=error,
        images=options,
        preview=preview,
    )


@router.get("/firmware/rollouts/new", response_class=HTMLResponse)
def new_rollout(request: Request, viewer: ReadView, session: SessionDep) -> Response:
    chosen = text_param(request, "image_id", max_length=9)
    return _form_page(
        request, viewer, session, RolloutForm.blank(chosen if chosen.isdigit() else "")
    )


@router.post("/firmware/rollouts/new", response_class=HTMLResponse)
async def create_rollout(
    request: Request, viewer: AdminAction, session: SessionDep, now: NowDep
) -> Response:
    _, families = _image_choices(session)
    posted = await request.form()
    form = read_form(posted, families)
    if form.errors:
        return _form_page(request, viewer, session, form, status=422)
    actor = _actor(request, viewer)
    try:
        if posted.get("intent") == "preview":
            plan = admin.plan_rollout(session, image_id=form.image_id, policy=form.policy)
            preview = admin.plan_to_preview(plan)
            return _form_page(request, viewer, session, form, preview=preview)
        row = rollout_admin.create(
            session,
            actor,
            name=form.values["name"],
            image_id=form.image_id,
            policy=form.policy,
            now=now,
        )
        if form.checks["start"]:
            rollout_admin.move(session, actor, row.id or 0, "start", now=now)
    except RolloutRefused as exc:
        session.rollback()
        name = field_of(exc.field)
        if name:
            form.errors[name] = exc.message
        return _form_page(
            request, viewer, session, form, status=422, error="" if name else str(exc)
        )
    except (TargetsOverlap, InvalidTransition) as exc:
        session.rollback()
        return _form_page(request, viewer, session, form, status=409, error=str(exc))
    done = "started" if form.checks["start"] else "created"
    return RedirectResponse(f"/firmware/rollouts/{row.id}?done={done}", status_code=303)


# -- one rollout -------------------------------------------------------------------------------


def _filters(request: Request) -> tuple[int | None, str]:
    raw = request.query_params.get("wave", "")
    wave = int(raw) if raw.isdigit() and len(raw) <= 6 else None
    state = text_param(request, "target_state", max_length=16)
    return wave, state if state in TARGET_STATES else ""


def _progress(request: Request, session: Session, row: RolloutRow) -> dict[str, Any]:
    """Everything the progress fragment shows: waves with their counts, totals, a page of
    targets (the page's own ``offset``/``wave``/``target_state``), the moves open now."""
    assert row.id is not None
    counts = progress.progress_of(session, row.id)
    wave, target_state = _filters(request)
    win: Window = window(request, limit=TARGET_PAGE)
    query = progress.targets_query(row.id, wave=wave, state=target_state or None)
    targets = list(session.exec(query.offset(win.offset).limit(win.limit + 1)))
    total = counts.target_total
    finished = sum(n for s, n in counts.totals.items() if s in FINAL_TARGET_STATES)
    query_string = request.url.query
    return {
        "rollout": row,
        "waves": [
            (w, counts.per_wave.get(w.index, {})) for w in progress.waves_of(session, row.id)
        ],
        "totals": counts.totals,
        "total": total,
        "finished": finished,
        "succeeded": counts.totals.get(TargetState.SUCCEEDED, 0),
        "failed": counts.totals.get(TargetState.FAILED, 0),
        "cancelled": counts.totals.get(TargetState.CANCELLED, 0),
        "skipped": counts.totals.get(TargetState.SKIPPED, 0),
        "percent": round(100 * finished / total) if total else 0,
        "targets": replace(
            page_of(request, targets, win, total=None), path=f"/firmware/rollouts/{row.id}"
        ),
        "wave_filter": "" if wave is None else str(wave),
        "target_state": target_state,
        "actions": ACTIONS.get(row.state, ()),
        "live": row.state not in FINAL_ROLLOUT_STATES,
        "progress_url": f"/firmware/rollouts/{row.id}/progress"
        + (f"?{query_string}" if query_string else ""),
    }


def _rollout_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    row: RolloutRow,
    *,
    status: int = 200,
    error: str = "",
) -> HTMLResponse:
    versions, families = _names(session, [row])
    return render(
        request,
        "firmware/rollout.html",
        viewer,
        status=status,
        title=f"Rollout {row.name}",
        version=versions.get(row.image_id or 0, ""),
        family=families.get(row.family_id, ""),
        done=DONE.get(request.query_params.get("done", ""), ""),
        error=error,
        wave_choices=[("", "every wave"), *((str(i), str(i + 1)) for i in range(row.wave_count))],
        target_states=[("", "any state"), *((s, s) for s in TARGET_STATES)],
        **_progress(request, session, row),
    )


def _find(session: Session, raw: str) -> RolloutRow | None:
    found = number(raw)
    return None if found is None else session.get(RolloutRow, found)


@router.get("/firmware/rollouts/{rollout_id}", response_class=HTMLResponse)
def rollout_detail(
    request: Request, rollout_id: str, viewer: ReadView, session: SessionDep
) -> Response:
    row = _find(session, rollout_id)
    if row is None:
        return not_found(request, viewer, "rollout with that id")
    return _rollout_page(request, viewer, session, row)


@router.get("/firmware/rollouts/{rollout_id}/progress", response_class=HTMLResponse)
def rollout_progress(
    request: Request, rollout_id: str, viewer: ReadView, session: SessionDep
) -> Response:
    row = _find(session, rollout_id)
    if row is None:
        return not_found(request, viewer, "rollout with that id")
    return render(
        request, "firmware/_progress_fragment.html", viewer, **_progress(request, session, row)
    )


@router.post("/firmware/rollouts/{rollout_id}/{action}", response_class=HTMLResponse)
def move_rollout(
    request: Request,
    rollout_id: str,
    action: str,
    viewer: AdminAction,
    session: SessionDep,
    now: NowDep,
) -> Response:
    row = _find(session, rollout_id)
    if row is None or row.id is None or action not in ALL_ACTIONS:
        return not_found(request, viewer, "rollout or action of that name")
    target: int | None = row.id
    try:
        if action == "rollback":
            target = rollout_admin.rollback(session, _actor(request, viewer), row.id, now=now).id
        else:
            rollout_admin.move(session, _actor(request, viewer), row.id, action, now=now)
    except (InvalidTransition, RolloutRefused, RolloutNotFound, TargetsOverlap) as exc:
        session.rollback()
        fresh = session.get(RolloutRow, row.id)
        assert fresh is not None
        message = exc.message if isinstance(exc, RolloutRefused) else str(exc)
        return _rollout_page(request, viewer, session, fresh, status=409, error=message)
    return RedirectResponse(f"/firmware/rollouts/{target}?done={action}", status_code=303)
