"""``/stations``: the searchable station list, one station's page, and its remote commands.

The list and the station's connectors and sessions refresh themselves on station events
(htmx fragments). Command forms post to ``/stations/{id}/commands/{name}``; the page comes back
with the station's answer (htmx swaps only the answer box).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import audit
from app.dashboard.auth import AdminAction, ReadView
from app.dashboard.pages.station_commands import CHOICES, FORMS, Answer, parse, run
from app.dashboard.paging import page_of, text_param, window
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import PlatformDep, SessionDep, client_address
from app.fleet import StationState, family_names, find_stations
from app.station_view import StationView, connectors_of, recent_sessions, station_view
from charging.ledger import ACTIVE
from charging.tables import Station

router = APIRouter(include_in_schema=False)

STATES = [("", "Any state"), *((s.value, s.value.capitalize()) for s in StationState)]


def _not_found(request: Request, viewer: Viewer, station_id: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        viewer,
        status=404,
        heading="No such station",
        detail=f"There is no station {station_id[:100]!r}.",
    )


@router.get("/stations", response_class=HTMLResponse)
def stations(request: Request, viewer: ReadView, session: SessionDep) -> Response:
    text = text_param(request, "q", max_length=50)
    raw_state = text_param(request, "state")
    state = next((s for s in StationState if s.value == raw_state), None)
    family = text_param(request, "family", max_length=64)
    win = window(request)
    lines = find_stations(
        session, text=text, state=state, family=family, offset=win.offset, limit=win.limit + 1
    )
    page = page_of(request, lines, win, total=None)
    families = family_names(session)
    template = "stations/rows.html" if request.headers.get("hx-request") else "stations/list.html"
    return render(
        request,
        template,
        viewer,
        title="Stations",
        page=page,
        q=text,
        state=state.value if state else "",
        states=STATES,
        family=family,
        families=[("", "Any family"), *((name, name) for name in families)],
        live_url=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


def _detail_context(view: StationView) -> dict[str, Any]:
    active = [tx for tx in view.sessions if tx.state == ACTIVE]
    return {
        "view": view,
        "station": view.station,
        "connectors": view.connectors,
        "sessions": view.sessions,
        "forms": FORMS,
        "choices": CHOICES,
        "defaults": {"stop-transaction_ref": active[0].transaction_ref if active else ""},
    }


def _page(
    request: Request,
    viewer: Viewer,
    view: StationView,
    *,
    status: int = 200,
    answer: Answer | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "stations/detail.html",
        viewer,
        status=status,
        title=f"Station {view.station.id}",
        answer=answer,
        values=values or {},
        errors=errors or {},
        **_detail_context(view),
    )


@router.get("/stations/{station_id}", response_class=HTMLResponse)
def station(station_id: str, request: Request, viewer: ReadView, session: SessionDep) -> Response:
    view = station_view(session, station_id)
    if view is None:
        return _not_found(request, viewer, station_id)
    return _page(request, viewer, view)


@router.get("/stations/{station_id}/connectors", response_class=HTMLResponse)
def connectors(
    station_id: str, request: Request, viewer: ReadView, session: SessionDep
) -> Response:
    station = session.get(Station, station_id)
    if station is None:
        return _not_found(request, viewer, station_id)
    return render(
        request,
        "stations/connectors.html",
        viewer,
        station=station,
        connectors=connectors_of(session, station_id),
    )


@router.get("/stations/{station_id}/sessions", response_class=HTMLResponse)
def sessions(station_id: str, request: Request, viewer: ReadView, session: SessionDep) -> Response:
    station = session.get(Station, station_id)
    if station is None:
        return _not_found(request, viewer, station_id)
    return render(
        request,
        "stations/sessions.html",
        viewer,
        station=station,
        sessions=recent_sessions(session, station_id),
    )


def _view(session: Session, station_id: str) -> StationView | None:
    session.expire_all()  # the command wrote in this session: read the station afresh
    return station_view(session, station_id)


@router.post("/stations/{station_id}/commands/{name}", response_class=HTMLResponse)
async def command(
    station_id: str,
    name: str,
    request: Request,
    viewer: AdminAction,
    platform: PlatformDep,
    session: SessionDep,
) -> Response:
    if await run_in_threadpool(session.get, Station, station_id) is None:
        return _not_found(request, viewer, station_id)
    form = FORMS.get(name)
    if form is None:
        return render(
            request,
            "error.html",
            viewer,
            status=404,
            heading="No such command",
            detail=f"Stations have no command {name[:100]!r}.",
        )
    parsed = parse(form, await request.form())
    if parsed.body is None:
        answer, status = parsed.refusal(), 422
    else:
        actor = audit.Actor(viewer.actor_name, client_address(request))
        answer = await run(platform, session, actor, station_id, form, parsed.body)
        status = 200 if answer.ok or answer.payload else 409
    if request.headers.get("hx-request"):
        # htmx swaps only the answer box, and does not swap error statuses: always a 200.
        return render(request, "stations/answer.html", viewer, answer=answer)
    view = await run_in_threadpool(_view, session, station_id)
    if view is None:
        return _not_found(request, viewer, station_id)
    return _page(
        request,
        viewer,
        view,
        status=status,
        answer=answer,
        values=parsed.values,
        errors=parsed.errors,
    )
