"""``/``: the overview (manufacturing users land on the factory instead)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.dashboard.auth import READ, ViewerDep
from app.dashboard.render import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, viewer: ViewerDep) -> Response:
    if not viewer.has(*READ):
        return RedirectResponse("/factory", status_code=303)
    return render(request, "overview.html", viewer, title="Overview")
