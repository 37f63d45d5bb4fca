"""Firmware channels of hardware families, family signing settings and the channel a station
follows (admin)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import audit
from app.api.firmware_images import ImagePublic, image_public
from app.deps import ActorDep, AdminPrincipal, PlatformDep, SessionDep
from firmware import catalog
from firmware.signatures import SignatureAlgorithm

router = APIRouter(prefix="/api/v1", tags=["firmware"])


class ChannelPublic(BaseModel):
    name: str
    builtin: bool
    image: ImagePublic | None
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, session: Session, family: str, channel: catalog.Channel) -> ChannelPublic:
        links = {"self": {"href": f"/api/v1/families/{family}/channels/{channel.name}"}}
        if channel.image is not None:
            links["image"] = {"href": f"/api/v1/firmware/images/{channel.image.id}"}
        return cls(
            name=channel.name,
            builtin=channel.builtin,
            image=None if channel.image is None else image_public(session, channel.image),
            links=links,
        )


class ChannelList(BaseModel):
    family: str
    default_channel: str
    signing_root: Literal["platform", "vendor"]
    signature_algorithm: str
    items: list[ChannelPublic]
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=32)


class ChannelImage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_id: int | None = Field(ge=1, le=2**31 - 1)


@router.get(
    "/families/{name}/channels",
    summary="A family's firmware channels and their images (admin)",
    response_model_by_alias=True,
)
def list_channels(name: str, session: SessionDep, _admin: AdminPrincipal) -> ChannelList:
    family = catalog.family(session, name)
    assert family.id is not None
    vendor = catalog.vendor_root_pem(session, family.id)
    return ChannelList(
        family=family.name,
        default_channel=family.default_channel,
        signing_root="vendor" if vendor else "platform",
        signature_algorithm=catalog.signature_algorithm(session, family.id).value,
        items=[ChannelPublic.of(session, name, c) for c in catalog.channels(session, family.id)],
        links={
            "self": {"href": f"/api/v1/families/{name}/channels"},
            "family": {"href": f"/api/v1/families/{name}"},
            "images": {"href": f"/api/v1/firmware/images?family={name}"},
            "signing": {"href": f"/api/v1/families/{name}/signing"},
        },
    )


@router.post(
    "/families/{name}/channels",
    status_code=201,
    summary="Add a custom channel to a family (admin)",
    response_model_by_alias=True,
)
def create_channel(
    name: str, body: ChannelCreate, session: SessionDep, _admin: AdminPrincipal, actor: ActorDep
) -> ChannelPublic:
    family = catalog.family(session, name)
    channel = catalog.create_channel(session, family, body.name, audit=audit.record, actor=actor)
    return ChannelPublic.of(session, name, channel)


@router.put(
    "/families/{name}/channels/{channel}",
    summary="Set (or clear) the image a channel carries (admin)",
    response_model_by_alias=True,
)
def set_channel_image(
    name: str,
    channel: str,
    body: ChannelImage,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> ChannelPublic:
    family = catalog.family(session, name)
    result = catalog.set_channel_image(
        session, family, channel, body.image_id, audit=audit.record, actor=actor
    )
    return ChannelPublic.of(session, name, result)


class SigningSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: Literal["platform", "vendor"] | None = Field(
        default=None, description="vendor: the certificate names the vendor's own root"
    )
    certificate: str | None = Field(default=None, max_length=10_000)
    signature_algorithm: SignatureAlgorithm | None = None


class SigningPublic(BaseModel):
    family: str
    signing_root: Literal["platform", "vendor"]
    signature_algorithm: str
    certificate: str


@router.put(
    "/families/{name}/signing",
    summary="The root a family's images are signed under and their algorithm (admin)",
)
def set_signing(
    name: str,
    body: SigningSettings,
    session: SessionDep,
    platform: PlatformDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> SigningPublic:
    family = catalog.family(session, name)
    assert family.id is not None
    vendor_certificate = body.certificate if body.root in ("vendor", None) else None
    catalog.set_signing(
        session,
        family,
        certificate_pem=vendor_certificate,
        clear_root=body.root == "platform",
        algorithm=body.signature_algorithm,
        audit=audit.record,
        actor=actor,
    )
    vendor = catalog.vendor_root_pem(session, family.id)
    return SigningPublic(
        family=name,
        signing_root="vendor" if vendor else "platform",
        signature_algorithm=catalog.signature_algorithm(session, family.id).value,
        certificate=vendor or platform.firmware_signer.manufacturer_root_pem(),
    )


class StationChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str | None = Field(
        min_length=1, max_length=32, description="null: follow the family's default again"
    )


class StationChannelPublic(BaseModel):
    station_id: str
    family: str
    channel: str
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")


@router.put(
    "/stations/{station_id}/channel",
    summary="The firmware channel a station follows (admin)",
    response_model_by_alias=True,
)
def set_station_channel(
    station_id: str,
    body: StationChannel,
    session: SessionDep,
    _admin: AdminPrincipal,
    actor: ActorDep,
) -> StationChannelPublic:
    family_id, channel = catalog.set_station_channel(
        session, station_id, body.channel, audit=audit.record, actor=actor
    )
    family = catalog.family_by_id(session, family_id)
    return StationChannelPublic(
        station_id=station_id,
        family=family.name,
        channel=channel,
        links={
            "station": {"href": f"/api/v1/stations/{station_id}"},
            "channels": {"href": f"/api/v1/families/{family.name}/channels"},
        },
    )
