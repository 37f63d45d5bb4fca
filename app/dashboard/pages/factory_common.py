"""What the factory pages share: who may print labels, lifecycle badges, the not-found page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app import audit
from app.dashboard.auth import FACTORY_WRITE, page_role
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import client_address
from charging.tables import Station
from enrollment.lifecycle import DeviceState

LabelView = Annotated[Viewer, Depends(page_role(*FACTORY_WRITE))]
"""Labels carry the security codes: like the API, only manufacturing and admins print them."""

STATE_BADGES = {
    DeviceState.REGISTERED.value: "muted",
    DeviceState.ENROLLED.value: "warn",
    DeviceState.RELEASED.value: "ok",
    DeviceState.PAIRED.value: "ok",
    DeviceState.DECOMMISSIONED.value: "bad",
}
STATES = [state.value for state in DeviceState]
MAX_LOT = 64
"""Lots are at most this long (``enrollment.identifiers.check_lot``)."""


def can_act(viewer: Viewer) -> bool:
    return viewer.has(*FACTORY_WRITE)


def actor_of(viewer: Viewer, request: Request) -> audit.Actor:
    return audit.Actor(viewer.actor_name, client_address(request))


def refused_page(
    request: Request, viewer: Viewer, detail: str, *, status: int, heading: str = "Not found"
) -> HTMLResponse:
    return render(request, "error.html", viewer, status=status, heading=heading, detail=detail)


def not_found(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    return refused_page(request, viewer, f"{what} was not found.", status=404)


def stations_of(session: Session, serials: list[str]) -> dict[str, Station]:
    """The stations (OCPP identity = the device's serial) that have connected, of one page."""
    if not serials:
        return {}
    rows = session.exec(select(Station).where(col(Station.id).in_(serials))).all()
    return {row.id: row for row in rows}
