"""``/factory/import``: register the devices of a CSV file, one result per row.

The same parser and import service as ``POST /api/v1/devices/import``, so the same rule holds:
a file refused as a whole (encoding, header, quoting) registers nothing; otherwise every good
row is registered and committed on its own and a bad row never stops a good one. The request
body limit (``max_body_bytes``, 1 MiB by default) applies to the upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from app.api.device_import import run_import
from app.dashboard.auth import FactoryAction, FactoryView
from app.dashboard.pages.factory_common import actor_of, can_act
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import PlatformDep
from enrollment.bulk_import import ImportResult, ImportStatus
from enrollment.csv_import import CsvImportError, ParsedImport, parse_factory_csv

router = APIRouter(include_in_schema=False)

MAX_ROWS_SHOWN = 1000
FORM_OVERHEAD = 2048
"""Bytes of the body limit the multipart framing and the CSRF field may take."""
MAX_LOTS_SHOWN = 20
OUTCOME_BADGES = {
    ImportStatus.CREATED.value: "ok",
    ImportStatus.EXISTING.value: "muted",
    ImportStatus.DUPLICATE.value: "warn",
    ImportStatus.ERROR.value: "bad",
}


def _form(
    request: Request,
    viewer: Viewer,
    *,
    limit: int,
    errors: dict[str, str] | None = None,
    result: ImportResult | None = None,
    filename: str = "",
    lots: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    rows = result.rows if result else []
    shown = rows
    if len(rows) > MAX_ROWS_SHOWN:  # the errors are what the line needs to see
        shown = [row for row in rows if row.status is ImportStatus.ERROR][:MAX_ROWS_SHOWN]
    return render(
        request,
        "factory/import.html",
        viewer,
        status=status,
        title="Import devices",
        errors=errors or {},
        result=result,
        rows=shown,
        rows_cut=len(shown) < len(rows),
        filename=filename,
        lots=lots or [],
        badges=OUTCOME_BADGES,
        max_file_bytes=max(0, limit - FORM_OVERHEAD),
        can_act=can_act(viewer),
    )


@router.get("/factory/import", response_class=HTMLResponse)
def import_form(request: Request, viewer: FactoryView, platform: PlatformDep) -> Response:
    return _form(request, viewer, limit=platform.settings.max_body_bytes)


def _lots(parsed: ParsedImport) -> list[str]:
    seen = dict.fromkeys(registration.lot for registration in parsed.registrations)
    return list(seen)[:MAX_LOTS_SHOWN]


async def _closing_upload(request: Request) -> AsyncIterator[None]:
    """Close the parsed form's spooled files after the answer, also when the CSRF check (which
    parsed the form) refuses the post."""
    try:
        yield
    finally:
        await request.close()


@router.post(
    "/factory/import", response_class=HTMLResponse, dependencies=[Depends(_closing_upload)]
)
async def import_file(request: Request, viewer: FactoryAction, platform: PlatformDep) -> Response:
    limit = platform.settings.max_body_bytes
    form = await request.form()  # already read (and bounded) for the CSRF check
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = {"file": "Choose a CSV file to upload."}
        return _form(request, viewer, limit=limit, errors=errors, status=422)
    filename = upload.filename[:200]
    data = await upload.read()
    try:
        parsed = parse_factory_csv(data, max_bytes=limit)
    except CsvImportError as refused:
        errors = {"file": f"The file was refused, nothing was imported: {refused.detail}."}
        return _form(request, viewer, limit=limit, errors=errors, filename=filename, status=422)
    result = await run_import(platform, parsed, actor_of(viewer, request))
    return _form(request, viewer, limit=limit, result=result, filename=filename, lots=_lots(parsed))
