"""Hardware families and the MAC address pool (admin)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app import audit
from app.api.pagination import Page, PageQuery, paginate, paginate_list
from app.deps import ActorDep, AdminPrincipal, SessionDep
from app.problems import not_found
from enrollment import repository
from enrollment.identifiers import MacRange, format_mac
from enrollment.tables import HardwareFamilyRow, MacRangeRow

router = APIRouter(prefix="/api/v1", tags=["factory line"])

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class FamilyPublic(BaseModel):
    name: str
    vendor: str
    model: str
    ocpp_version: str
    default_channel: str
    created_at: datetime
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, family: HardwareFamilyRow) -> FamilyPublic:
        return cls(
            name=family.name,
            vendor=family.vendor,
            model=family.model,
            ocpp_version=family.ocpp_version,
            default_channel=family.default_channel,
            created_at=family.created_at,
            links={
                "self": {"href": f"/api/v1/families/{family.name}"},
                "devices": {"href": f"/api/v1/devices?family={family.name}"},
            },
        )


class FamilyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=_NAME)
    vendor: str = Field(min_length=1, max_length=50)
    model: str = Field(min_length=1, max_length=50)
    ocpp_version: str = Field(pattern=r"^(1\.6|2\.0\.1|2\.1)$")
    default_channel: str = Field(default="stable", min_length=1, max_length=32, pattern=_NAME)


class FamilyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vendor: str | None = Field(default=None, min_length=1, max_length=50)
    model: str | None = Field(default=None, min_length=1, max_length=50)
    ocpp_version: str | None = Field(default=None, pattern=r"^(1\.6|2\.0\.1|2\.1)$")
    default_channel: str | None = Field(default=None, min_length=1, max_length=32, pattern=_NAME)


def _family(session: Session, name: str) -> HardwareFamilyRow:
    family = repository.family_by_name(session, name)
    if family is None:
        raise not_found(f"hardware family {name!r}")
    return family


@router.get("/families", summary="Hardware families (admin)", response_model_by_alias=True)
def list_families(
    request: Request, session: SessionDep, _admin: AdminPrincipal, page: PageQuery
) -> Page[FamilyPublic]:
    query = select(HardwareFamilyRow).order_by(col(HardwareFamilyRow.name))
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[FamilyPublic.of(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.post(
    "/families",
    status_code=201,
    summary="Add a hardware family (admin)",
    response_model_by_alias=True,
)
def create_family(
    body: FamilyCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> FamilyPublic:
    family = repository.add_family(session, **body.model_dump())
    audit.record(session, actor, "family.create", object_type="family", object_id=family.name)
    return FamilyPublic.of(family)


@router.get("/families/{name}", summary="One hardware family", response_model_by_alias=True)
def get_family(name: str, session: SessionDep, _admin: AdminPrincipal) -> FamilyPublic:
    return FamilyPublic.of(_family(session, name))


@router.patch(
    "/families/{name}", summary="Change a hardware family (admin)", response_model_by_alias=True
)
def update_family(
    name: str, body: FamilyUpdate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> FamilyPublic:
    family = _family(session, name)
    changes = body.model_dump(exclude_none=True)
    for field, value in changes.items():
        setattr(family, field, value)
    session.add(family)
    audit.record(session, actor, "family.update", object_type="family", object_id=name, **changes)
    return FamilyPublic.of(family)


@router.delete("/families/{name}", status_code=204, summary="Delete an unused family (admin)")
def delete_family(
    name: str, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> Response:
    _family(session, name)
    repository.delete_family(session, name)
    audit.record(session, actor, "family.delete", object_type="family", object_id=name)
    return Response(status_code=204)


class MacRangePublic(BaseModel):
    id: int
    first: str
    last: str
    size: int
    allocated: int
    free: int
    created_at: datetime

    @classmethod
    def of(cls, row: MacRangeRow) -> MacRangePublic:
        size = row.last - row.first + 1
        return cls(
            id=row.id or 0,
            first=format_mac(row.first),
            last=format_mac(row.last),
            size=size,
            allocated=row.next_index,
            free=size - row.next_index,
            created_at=row.created_at,
        )


class MacRangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    range: str = Field(
        min_length=1,
        max_length=80,
        description="FIRST-LAST, e.g. 02:00:00:00:00:00-02:00:00:00:FF:FF",
    )


class MacPool(Page[MacRangePublic]):
    """A page of the pool's ranges, with the totals of the whole pool."""

    size: int
    allocated: int
    free: int


@router.get("/mac-ranges", summary="The MAC address pool (admin)", response_model_by_alias=True)
def list_mac_ranges(
    request: Request, session: SessionDep, _admin: AdminPrincipal, page: PageQuery
) -> MacPool:
    ranges = [MacRangePublic.of(row) for row in repository.mac_ranges(session)]
    items, total, links = paginate_list(ranges, page, request)
    return MacPool(
        items=items,
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
        size=sum(r.size for r in ranges),
        allocated=sum(r.allocated for r in ranges),
        free=sum(r.free for r in ranges),
    )


@router.post("/mac-ranges", status_code=201, summary="Add MAC addresses to the pool (admin)")
def add_mac_range(
    body: MacRangeCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> MacRangePublic:
    row = repository.add_mac_range(session, MacRange.parse(body.range))
    audit.record(
        session,
        actor,
        "mac_range.add",
        object_type="mac_range",
        object_id=str(row.id),
        range=body.range,
    )
    return MacRangePublic.of(row)
