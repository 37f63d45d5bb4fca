"""``/``: the overview (manufacturing users land on the factory instead), and its live figures.

The figures are a fragment (``/overview/figures``) that htmx fetches again on every station
event (coalesced by ``dashboard.js``: at once, at most once a second, and after the last),
and every 30 seconds as a safety net for changes no event says (a station dropping off).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.dashboard.auth import READ, ReadView, ViewerDep
from app.dashboard.render import render
from app.deps import NowDep, SessionDep
from app.fleet import EXPIRY_WINDOW, fleet_figures, recent_security_events

router = APIRouter(include_in_schema=False)


def _figures(session: Session, now: datetime) -> dict[str, Any]:
    return {
        "figures": fleet_figures(session, now),
        "events": recent_security_events(session),
        "expiry_days": EXPIRY_WINDOW.days,
    }


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, viewer: ViewerDep, session: SessionDep, now: NowDep) -> Response:
    if not viewer.has(*READ):
        return RedirectResponse("/factory", status_code=303)
    return render(request, "overview.html", viewer, title="Overview", **_figures(session, now))


@router.get("/overview/figures", response_class=HTMLResponse)
def overview_figures(
    request: Request, viewer: ReadView, session: SessionDep, now: NowDep
) -> Response:
    return render(request, "overview/figures.html", viewer, **_figures(session, now))
