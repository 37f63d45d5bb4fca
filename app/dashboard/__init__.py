"""The admin dashboard: server-rendered pages inside the API process (see ``install``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.dashboard import login, sso
from app.dashboard.auth import COOKIE, LoginRequired, PageForbidden, session_viewer
from app.dashboard.pages import audit, certificates, factory, firmware, overview, sessions, stations
from app.dashboard.render import ASSET_PATH, ASSETS, render
from common.clock import utcnow

ROUTERS = (
    login.router,
    sso.router,
    overview.router,
    stations.router,
    certificates.router,
    audit.router,
    sessions.router,
    factory.router,
    firmware.router,
)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = f"/login?next={exc.next_url}" if exc.next_url != "/" else "/login"
    if request.headers.get("hx-request"):  # htmx swaps fragments: send the whole page away
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _forbidden(request: Request, exc: Exception) -> HTMLResponse:
    platform = request.app.state.platform
    viewer = session_viewer(platform, request.cookies.get(COOKIE), utcnow())
    return render(request, "error.html", viewer, status=403, heading="Not allowed", detail=str(exc))


def install(app: FastAPI) -> None:
    """Mount the pages, their assets and the handlers that turn refusals into pages."""
    app.mount(ASSET_PATH, StaticFiles(directory=ASSETS), name="dashboard-assets")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PageForbidden, _forbidden)
    for router in ROUTERS:
        app.include_router(router)
