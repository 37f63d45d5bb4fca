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
from enrollment import repository, service
from enrollment.identifiers import parse_serial
from enrollment.labels import Label, render_png, render_sheet_pdf, render_svg
from enrollment.qr import LabelKind
from enrollment.service_errors import LabelsUnavailable

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
    codes = service.label_codes(device, keys=keys)
    kind = _KINDS[kind_name]
    label = Label(
        kind=kind,
        serial=device.serial,
        code=codes.device if kind is LabelKind.DEVICE else codes.packaging,
        mac=device.mac if kind is LabelKind.DEVICE else None,
    )
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
    devices = repository.lot_devices(session, lot)[offset : offset + limit]
    labels: list[Label] = []
    skipped = 0
    for device in devices:
        try:
            codes = service.label_codes(device, keys=keys)
        except LabelsUnavailable:
            skipped += 1
            continue
        labels.append(Label(LabelKind.DEVICE, device.serial, codes.device, device.mac))
        labels.append(Label(LabelKind.PACKAGING, device.serial, codes.packaging))
    if not labels:
        raise Problem(
            409,
            "labels-unavailable",
            f"no device of lot {lot} in this range still has printable labels",
        )
    pdf = render_sheet_pdf(labels)
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="lot-labels-{offset}.pdf"',
        "X-Labels-Skipped": str(skipped),
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
