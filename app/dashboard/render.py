"""Rendering pages: one Jinja2 environment (autoescaped), the layout's context, safe headers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.dashboard.nav import current, sections_for
from app.dashboard.session_store import Viewer

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
    )
)
ASSET_PATH = "/static/dashboard"

SECURITY_HEADERS = {
    # Every script and style comes from the package: no inline code, no other origin.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def asset(name: str) -> str:
    return f"{ASSET_PATH}/{name}"


def when(value: datetime | None) -> str:
    """A timestamp as the pages show it: UTC, to the second."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


TEMPLATES.env.globals["asset"] = asset
TEMPLATES.env.filters["when"] = when


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A full page, or a fragment when ``template`` is one (a partial htmx swaps in)."""
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "sections": sections_for(viewer),
            "current_section": current(request.url.path),
            "csrf_token": viewer.csrf_token if viewer else "",
            **context,
        },
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )
    assert isinstance(response, HTMLResponse)
    return response
