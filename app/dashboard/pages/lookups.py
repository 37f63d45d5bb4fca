"""Finding the object a page's path names: ids parsed leniently, a 404 page when it is not there."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.dashboard.render import render
from app.dashboard.session_store import Viewer


def number(raw: str) -> int | None:
    """A path id as the pages take it: digits only, else None (the page says not found)."""
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def not_found(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    return render(
        request, "error.html", viewer, status=404, heading="Not found", detail=f"No {what}."
    )
