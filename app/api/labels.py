"""QR security labels: one label as PNG or SVG, and an A4 PDF sheet for a lot.

Labels can be printed while the device is on the factory's side (``registered`` or
``enrolled``); release erases the sealed codes and the labels with them (409
``labels-unavailable``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.bounds import NonNegativeInt32
from app.api.factory import KeysDep, LinePrincipal
from app.deps import SessionDep
from app.problems import Problem, not_found
from enrollment import label_sheets, repository
from enrollment.identifiers import parse_serial
from enrollment.labels import render_png, render_sheet_pdf, render_svg
from enrollment.qr import LabelKind

router = APIRouter(prefix="/api/v1", tags=["factory line"])

_KINDS = {"device": LabelKind.DEVICE, "packaging": LabelKind.PACKAGING}
MAX_SHEET_DEVICES = 500


@router.get(
    "/devices/{serial}/labels/{name}",
    summary="One label: device.png, device.svg, packaging.png or packaging.svg",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def device_label(
    serial: str, name: str, session: SessionDep, keys: KeysDep, _line: LinePrincipal
) -> Response:
    kind_name, _, extension = name.partition(".")
    if kind_name not in _KINDS or extension not in ("png", "svg"):
        raise not_found(f"label {name!r}")
    device = repository.get_device(session, parse_serial(serial))
    label = label_sheets.device_label(device, _KINDS[kind_name], keys=keys)
    headers = {"Cache-Control": "no-store"}
    if extension == "png":
        return Response(render_png(label), media_type="image/png", headers=headers)
    return Response(render_svg(label), media_type="image/svg+xml", headers=headers)


@router.get(
    "/lots/{lot}/labels.pdf",
    summary="A printable A4 sheet of a lot's labels (device and packaging side by side)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def lot_sheet(
    lot: str,
    session: SessionDep,
    keys: KeysDep,
    _line: LinePrincipal,
    offset: Annotated[NonNegativeInt32, Query()] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_SHEET_DEVICES)] = MAX_SHEET_DEVICES,
) -> Response:
    sheet = label_sheets.lot_sheet(session, lot, keys=keys, offset=offset, limit=limit)
    if not sheet.labels:
        raise Problem(
            409,
            "labels-unavailable",
            f"no device of lot {lot} in this range still has printable labels",
        )
    pdf = render_sheet_pdf(sheet.labels)
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="lot-labels-{offset}.pdf"',
        "X-Labels-Skipped": str(sheet.skipped),
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
