"""``/factory``: lots with their counts per lifecycle stage, a lot's devices, release, labels.

Manufacturing sees and works these pages (and only these), support reads them, admins do all.
Devices, the CSV import and the labels of one device live in :mod:`.factory_devices` and
:mod:`.factory_import`, included here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app import audit
from app.api.devices import family_names
from app.api.factory import KeysDep
from app.api.labels import MAX_SHEET_DEVICES
from app.dashboard.auth import FactoryAction, FactoryView
from app.dashboard.pages import factory_devices, factory_import
from app.dashboard.pages.factory_common import (
    MAX_LOT,
    STATE_BADGES,
    STATES,
    LabelView,
    actor_of,
    can_act,
    not_found,
    refused_page,
    stations_of,
)
from app.dashboard.paging import int_param, page_of, text_param, window
from app.dashboard.render import render
from app.dashboard.session_store import Viewer
from app.deps import NowDep, SessionDep
from enrollment import label_sheets, service
from enrollment.identifiers import format_mac
from enrollment.labels import render_sheet_pdf
from enrollment.lifecycle import DeviceState
from enrollment.lots import LotSummary, device_query, lot_summaries, lot_summary
from enrollment.sealing import SealError
from enrollment.service_errors import UnknownDevice

router = APIRouter(include_in_schema=False)
router.include_router(factory_devices.router)
router.include_router(factory_import.router)

MAX_REFUSALS_SHOWN = 500


@router.get("/factory", response_class=HTMLResponse)
def lots(request: Request, viewer: FactoryView, session: SessionDep) -> Response:
    search = text_param(request, "q", max_length=MAX_LOT)
    win = window(request)
    found = lot_summaries(session, offset=win.offset, limit=win.limit + 1, search=search)
    return render(
        request,
        "factory/lots.html",
        viewer,
        title="Factory",
        page=page_of(request, found, win, total=None),
        search=search,
        can_act=can_act(viewer),
    )


def _lot_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    summary: LotSummary,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = text_param(request, "state", max_length=20)
    states = (DeviceState(state),) if state in STATES else ()
    win = window(request)
    query = device_query(lot=summary.lot, states=states)
    rows = session.exec(query.offset(win.offset).limit(win.limit + 1)).all()
    page = page_of(request, rows, win, total=None if states else summary.devices)
    sheets = [
        (offset + 1, min(offset + MAX_SHEET_DEVICES, summary.devices))
        for offset in range(0, summary.devices, MAX_SHEET_DEVICES)
    ]
    return render(
        request,
        "factory/lot.html",
        viewer,
        status=status,
        title=f"Lot {summary.lot}",
        summary=summary,
        page=page,
        state=state if states else "",
        states=STATES,
        badges=STATE_BADGES,
        format_mac=format_mac,
        families=family_names(session),
        stations=stations_of(session, [row.serial for row in page.items]),
        sheets=sheets if summary.registered + summary.enrolled else [],
        can_act=can_act(viewer),
        errors=errors or {},
    )


@router.get("/factory/lots/{lot}", response_class=HTMLResponse)
def lot(lot: str, request: Request, viewer: FactoryView, session: SessionDep) -> Response:
    summary = lot_summary(session, lot) if len(lot) <= MAX_LOT else None
    if summary is None:
        return not_found(request, viewer, "This lot")
    return _lot_page(request, viewer, session, summary)


@router.post("/factory/lots/{lot}/release", response_class=HTMLResponse)
def release_lot(
    lot: str,
    request: Request,
    viewer: FactoryAction,
    session: SessionDep,
    now: NowDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    summary = lot_summary(session, lot) if len(lot) <= MAX_LOT else None
    if summary is None:
        return not_found(request, viewer, "This lot")
    if confirm != "yes":
        errors = {"confirm": "Tick the box to confirm the release."}
        return _lot_page(request, viewer, session, summary, errors=errors, status=422)
    results = service.release_lot(
        session, summary.lot, actor=actor_of(viewer, request), now=now, audit=audit.record
    )
    outcomes = [result.outcome for result in results]
    refusals = [r for r in results if r.outcome is service.ReleaseOutcome.REFUSED]
    return render(
        request,
        "factory/release_result.html",
        viewer,
        title=f"Lot {summary.lot} released",
        lot=summary.lot,
        released=outcomes.count(service.ReleaseOutcome.RELEASED),
        already_released=outcomes.count(service.ReleaseOutcome.ALREADY_RELEASED),
        refused=len(refusals),
        refusals=refusals[:MAX_REFUSALS_SHOWN],
        badges=STATE_BADGES,
    )


@router.get("/factory/lots/{lot}/labels.pdf", response_model=None)
def lot_labels(
    lot: str, request: Request, viewer: LabelView, session: SessionDep, keys: KeysDep
) -> Response:
    """The lot's A4 label sheet, ``MAX_SHEET_DEVICES`` devices from ``offset`` (as the API)."""
    offset = int_param(request, "offset", 0, low=0, high=10_000_000)
    try:
        if len(lot) > MAX_LOT:
            raise UnknownDevice("lot")
        sheet = label_sheets.lot_sheet(
            session, lot, keys=keys, offset=offset, limit=MAX_SHEET_DEVICES
        )
    except UnknownDevice:
        return not_found(request, viewer, "This lot")
    except SealError:
        return refused_page(
            request, viewer, "The labels' sealed codes cannot be opened.", status=500
        )
    if not sheet.labels:
        detail = "No device of this lot in this range still has printable labels."
        return refused_page(request, viewer, detail, status=409, heading="Labels unavailable")
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="lot-labels-{offset}.pdf"',
        "X-Labels-Skipped": str(sheet.skipped),
    }
    return Response(render_sheet_pdf(sheet.labels), media_type="application/pdf", headers=headers)
