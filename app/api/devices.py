"""The device whitelist: registration (one, or a CSV file), release, decommission.

Registration answers 201 with the two plain security codes, once; a repeat answers 200 with
the same device and MAC address and without codes. The labels stay printable from
``/labels/...`` until the device is released (see :mod:`enrollment.sealing`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, select

from app import audit
from app.api.factory import KeysDep, LinePrincipal
from app.api.pagination import Page, PageQuery, paginate
from app.deps import ActorDep, AdminPrincipal, NowDep, SessionDep
from common.clock import as_utc
from enrollment import metadata as enrollment_metadata
from enrollment import repository, service
from enrollment.csv_import import Registration
from enrollment.identifiers import check_lot, format_mac, parse_serial
from enrollment.lifecycle import DeviceState
from enrollment.lots import device_query
from enrollment.metadata import MetadataRefused, stored_metadata
from enrollment.tables import DeviceRow, HardwareFamilyRow

router = APIRouter(prefix="/api/v1", tags=["factory line"])

_LOT = r"^[^/\\\x00-\x1f\x7f]+$"


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The bounds of :mod:`enrollment.metadata`, as a validation error naming the field."""
    try:
        return enrollment_metadata.check_metadata(metadata)
    except MetadataRefused as refused:
        raise ValueError(str(refused)) from None


class DevicePublic(BaseModel):
    serial: str
    family: str
    lot: str
    metadata: dict[str, object]
    metadata_error: str | None = Field(
        default=None, description="why stored metadata is not shown (stored before its bounds)"
    )
    mac: str
    state: DeviceState
    certificate_serial: str | None
    created_at: datetime
    enrolled_at: datetime | None
    released_at: datetime | None
    decommissioned_at: datetime | None
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, device: DeviceRow, family: str) -> DevicePublic:
        base = f"/api/v1/devices/{device.serial}"
        links = {
            "self": {"href": base},
            "family": {"href": f"/api/v1/families/{family}"},
            "lot": {"href": f"/api/v1/devices?lot={device.lot}"},
        }
        if device.sealed_codes is not None:
            for kind in ("device", "packaging"):
                links[f"{kind}_label"] = {"href": f"{base}/labels/{kind}.png"}
        if device.state in (DeviceState.REGISTERED, DeviceState.ENROLLED):
            links["enroll"] = {"href": f"{base}/enroll"}
        if device.state == DeviceState.ENROLLED:
            links["release"] = {"href": f"{base}/release"}
        if device.state != DeviceState.DECOMMISSIONED:
            links["decommission"] = {"href": f"{base}/decommission"}
        metadata, metadata_error = stored_metadata(device.metadata_json)
        return cls(
            serial=device.serial,
            family=family,
            lot=device.lot,
            metadata=metadata,
            metadata_error=metadata_error,
            mac=format_mac(device.mac),
            state=DeviceState(device.state),
            certificate_serial=device.certificate_serial,
            created_at=as_utc(device.created_at),
            enrolled_at=as_utc(device.enrolled_at),
            released_at=as_utc(device.released_at),
            decommissioned_at=as_utc(device.decommissioned_at),
            links=links,
        )


class SecurityCodes(BaseModel):
    device_code: str
    packaging_code: str


class DeviceRegistered(DevicePublic):
    codes: SecurityCodes | None = Field(
        description="the plain codes: in the 201 answer only, never again"
    )


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    serial: str = Field(min_length=1, max_length=64)
    family: str = Field(min_length=1, max_length=64)
    lot: str = Field(min_length=1, max_length=64)
    metadata: dict[str, Any] = Field(default_factory=dict)

    _lot = field_validator("lot")(check_lot)
    _metadata = field_validator("metadata")(check_metadata)


def family_names(session: Session) -> dict[int, str]:
    rows = session.exec(select(HardwareFamilyRow)).all()
    return {row.id: row.name for row in rows if row.id is not None}


def _serial(text: str) -> str:
    return parse_serial(text)


@router.post(
    "/devices",
    status_code=201,
    summary="Register a device (manufacturing), idempotent by serial",
    response_model=DeviceRegistered,
    response_model_by_alias=True,
    responses={200: {"description": "already registered with the same data"}},
)
def register_device(
    body: DeviceCreate,
    session: SessionDep,
    keys: KeysDep,
    _line: LinePrincipal,
    actor: ActorDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The answer carrying the once-only codes is serialized before the commit: once the
    device is durable, nothing left can fail and lose them (a retry answers 200 without
    codes). Should the commit fail instead, nothing was registered and a retry starts over."""
    registration = Registration(_serial(body.serial), body.family, body.lot, body.metadata)
    registered = service.register_device(
        session,
        registration,
        keys=keys,
        actor=actor,
        now=now,
        audit=audit.record,
        idempotency_key=idempotency_key,
    )
    public = DevicePublic.of(registered.device, registered.family.name)
    codes = registered.codes
    answer = DeviceRegistered(
        **public.model_dump(),
        codes=SecurityCodes(device_code=codes.device, packaging_code=codes.packaging)
        if codes
        else None,
    ).model_dump_json(by_alias=True)
    session.commit()  # the codes are shown once: only after they are durable
    return Response(
        answer,
        status_code=201 if registered.created else 200,
        media_type="application/json",
        headers={"Location": f"/api/v1/devices/{registered.device.serial}"},
    )


@router.get("/devices", summary="Devices, by lot, state or family", response_model_by_alias=True)
def list_devices(
    request: Request,
    session: SessionDep,
    _line: LinePrincipal,
    page: PageQuery,
    lot: str | None = None,
    state: DeviceState | None = None,
    family: str | None = None,
) -> Page[DevicePublic]:
    names = family_names(session)
    ids = None if family is None else [i for i, name in names.items() if name == family]
    query = device_query(lot=lot, states=() if state is None else (state,), family_ids=ids)
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[DevicePublic.of(row, names[row.family_id]) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


def _public(session: Session, device: DeviceRow) -> DevicePublic:
    return DevicePublic.of(device, family_names(session)[device.family_id])


@router.get("/devices/{serial}", summary="One device", response_model_by_alias=True)
def get_device(serial: str, session: SessionDep, _line: LinePrincipal) -> DevicePublic:
    return _public(session, repository.get_device(session, parse_serial(serial)))


@router.post(
    "/devices/{serial}/release",
    summary="Release an enrolled device to market (idempotent)",
    response_model_by_alias=True,
)
def release_device(
    serial: str, session: SessionDep, _line: LinePrincipal, actor: ActorDep, now: NowDep
) -> DevicePublic:
    device, _ = service.release_device(
        session, parse_serial(serial), actor=actor, now=now, audit=audit.record
    )
    return _public(session, device)


class LotDeviceResult(BaseModel):
    serial: str
    outcome: service.ReleaseOutcome
    state: DeviceState
    detail: str


class LotRelease(BaseModel):
    lot: str
    released: int
    already_released: int
    refused: int
    devices: list[LotDeviceResult]


@router.post("/lots/{lot}/release", summary="Release every enrolled device of a lot")
def release_lot(
    lot: str, session: SessionDep, _line: LinePrincipal, actor: ActorDep, now: NowDep
) -> LotRelease:
    results = service.release_lot(session, lot, actor=actor, now=now, audit=audit.record)
    outcomes = [result.outcome for result in results]
    return LotRelease(
        lot=lot,
        released=outcomes.count(service.ReleaseOutcome.RELEASED),
        already_released=outcomes.count(service.ReleaseOutcome.ALREADY_RELEASED),
        refused=outcomes.count(service.ReleaseOutcome.REFUSED),
        devices=[
            LotDeviceResult(serial=r.serial, outcome=r.outcome, state=r.state, detail=r.detail)
            for r in results
        ],
    )


class Decommission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


@router.post(
    "/devices/{serial}/decommission",
    summary="Retire a device for good (admin)",
    response_model_by_alias=True,
)
def decommission_device(
    serial: str,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
    now: NowDep,
    body: Decommission | None = None,
) -> DevicePublic:
    device = service.decommission(
        session,
        parse_serial(serial),
        actor=actor,
        now=now,
        audit=audit.record,
        reason=body.reason if body else "",
    )
    return _public(session, device)
