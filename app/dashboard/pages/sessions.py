"""``/sessions``: charging sessions, filtered; one session with its facts, charging curve and
meter values.

The curve is drawn in the browser (``charts.js``, uPlot) from ``/sessions/{id}/curve.json``;
without JavaScript the meter values table shows the same readings. While a session runs, the
chart and the facts refresh on the station's live events. ``plan`` in the JSON is where smart
charging's planned curve will go; it stays empty until the planner sets schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from app.dashboard.auth import ReadView
from app.dashboard.curve_cache import curves_of
from app.dashboard.paging import int_param, page_of, text_param, window
from app.dashboard.render import SECURITY_HEADERS, render
from app.dashboard.session_store import Viewer
from app.deps import SessionDep
from charging.curves import MAX_POINTS, Series
from charging.history import (
    TransactionFilter,
    energy_so_far,
    find_transactions,
    sample_page,
    sample_span,
    session_chart,
)
from charging.ledger import ACTIVE
from charging.tables import Transaction

router = APIRouter(include_in_schema=False)

STATUSES = (("", "Any"), ("running", "Running"), ("finished", "Finished"))
MAX_STATION = 48
MAX_ID_TOKEN = 64
METER_PAGE = 100


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filters as typed (shown back in the form) and as a query, with errors."""

    values: dict[str, str]
    where: TransactionFilter
    errors: dict[str, str]


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    errors[name] = "Use a date such as 2026-03-01."
    return None


def _bounded(raw: str, name: str, limit: int, errors: dict[str, str]) -> str | None:
    if not raw:
        return None
    if len(raw) > limit:
        errors[name] = f"At most {limit} characters."
        return None
    return raw


def parse_filters(request: Request) -> Filters:
    """The filters of ``/sessions``, leniently: a value that does not parse is left out of the
    query and named in ``errors``, so the page still shows a list."""
    values = {
        name: text_param(request, name) for name in ("station", "status", "id_token", "from", "to")
    }
    errors: dict[str, str] = {}
    station = _bounded(values["station"], "station", MAX_STATION, errors)
    id_token = _bounded(values["id_token"], "id_token", MAX_ID_TOKEN, errors)
    status = values["status"]
    active = {"running": True, "finished": False}.get(status)
    if status and active is None:
        errors["status"] = "Choose running or finished."
        values["status"] = ""
    since, until = _day(values["from"], "from", errors), _day(values["to"], "to", errors)
    if since is not None and until is not None and since > until:
        errors["to"] = "The end date is before the start date."
        until = None
    return Filters(
        values=values,
        where=TransactionFilter(
            station_id=station,
            id_token=id_token,
            since=None if since is None else datetime.combine(since, datetime.min.time(), UTC),
            until=None
            if until is None
            else datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC),
            active=active,
        ),
        errors=errors,
    )


@router.get("/sessions", response_class=HTMLResponse)
def session_list(request: Request, viewer: ReadView, session: SessionDep) -> Response:
    filters = parse_filters(request)
    win = window(request)
    rows = find_transactions(session, filters.where, offset=win.offset, limit=win.limit + 1)
    return render(
        request,
        "sessions/list.html",
        viewer,
        title="Sessions",
        page=page_of(request, rows, win, total=None),
        values=filters.values,
        errors=filters.errors,
        statuses=STATUSES,
    )


def _parse_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= 9 and int(raw) > 0 else None


def _not_found(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(
        request,
        "error.html",
        viewer,
        status=404,
        heading="No such session",
        detail="There is no charging session with this number.",
    )


def _transaction(session: Session, raw: str) -> Transaction | None:
    number = _parse_id(raw)
    return None if number is None else session.get(Transaction, number)


def _facts(session: Session, tx: Transaction) -> dict[str, Any]:
    energy = energy_so_far(session, tx)
    return {
        "tx": tx,
        "running": tx.state == ACTIVE,
        "energy_kwh": None if energy is None else energy / 1000.0,
    }


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(
    request: Request, session_id: str, viewer: ReadView, session: SessionDep
) -> Response:
    tx = _transaction(session, session_id)
    if tx is None or tx.id is None:
        return _not_found(request, viewer)
    win = window(request, limit=int_param(request, "limit", METER_PAGE, low=10, high=500))
    samples = sample_page(session, tx.id, offset=win.offset, limit=win.limit + 1)
    return render(
        request,
        "sessions/detail.html",
        viewer,
        title=f"Session {tx.id}",
        meter_page=page_of(request, samples, win, total=None),
        **_facts(session, tx),
    )


@router.get("/sessions/{session_id}/facts", response_class=HTMLResponse)
def session_facts(
    request: Request, session_id: str, viewer: ReadView, session: SessionDep
) -> Response:
    """The facts block alone, for the live refresh of a running session."""
    tx = _transaction(session, session_id)
    if tx is None:
        return _not_found(request, viewer)
    return render(request, "sessions/_facts.html", viewer, **_facts(session, tx))


def _epoch(series: Series, scale: float) -> dict[str, list[float]]:
    return {
        "t": [round(at.timestamp(), 3) for at in series.t],
        "y": [round(value / scale, 4) for value in series.values],
    }


@router.get("/sessions/{session_id}/curve.json")
def session_curve_json(session_id: str, _viewer: ReadView, session: SessionDep) -> Response:
    """Power (kW) and energy (kWh) over time in epoch seconds, each at most ``MAX_POINTS``
    points; ``plan`` is empty until smart charging plans sessions."""
    tx = _transaction(session, session_id)
    if tx is None or tx.id is None:
        return JSONResponse({"detail": "no such session"}, status_code=404)
    span = sample_span(session, tx.id)
    curve = curves_of(session.get_bind().engine).get(
        tx.id, span, tx.meter_start_wh, lambda: session_chart(session, tx, span)
    )
    body = {
        "session": tx.id,
        "station_id": tx.station_id,
        "running": tx.state == ACTIVE,
        "readings": curve.readings,
        "thinned": curve.thinned,
        "max_points": MAX_POINTS,
        "power_kw": _epoch(curve.power_w, 1000.0),
        "energy_kwh": _epoch(curve.energy_wh, 1000.0),
        "plan_kw": {"t": [], "y": []},
    }
    return JSONResponse(body, headers=SECURITY_HEADERS)
