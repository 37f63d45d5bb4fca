"""Remote commands: the REST API asks a station something and returns the station's answer.

Offline station -> 409, no answer in time -> 504, a CALLERROR from the station -> 502 with its
OCPP code, a command the station's OCPP version cannot express -> 422. A station that answers
``Rejected`` gets a 200 with that status: its answer is passed through, not hidden.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from app import audit
from app.deps import ActorDep, PlatformDep, SessionDep, require_role
from app.identity.jwt_tokens import Principal
from app.problems import Problem, not_found
from charging.commands import (
    ChangeAvailability,
    Command,
    Configure,
    DataTransfer,
    GetConfiguration,
    Reset,
    ResetMode,
    StartCharging,
    StopCharging,
    Trigger,
    TriggerKind,
    UnlockConnector,
)
from charging.events import IdToken, IdTokenType
from charging.tables import Station
from ocpp_edge.errors import InvalidReplyError, UnsupportedError
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline

router = APIRouter(prefix="/api/v1/stations/{station_id}/commands", tags=["commands"])

Admin = Annotated[Principal, Depends(require_role("admin"))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    id_token: str = Field(min_length=1, max_length=36)
    id_token_type: IdTokenType = IdTokenType.ISO14443
    evse_id: int | None = Field(default=None, ge=1)


class StopBody(_Body):
    transaction_ref: str = Field(min_length=1, max_length=36)


class ResetBody(_Body):
    mode: ResetMode = ResetMode.ON_IDLE


class UnlockBody(_Body):
    evse_id: int = Field(ge=1)
    connector_id: int = Field(default=1, ge=1)


class AvailabilityBody(_Body):
    operative: bool
    evse_id: int | None = Field(default=None, ge=0)


class GetConfigurationBody(_Body):
    keys: list[str] = Field(default_factory=list, max_length=100)


class ConfigureBody(_Body):
    key: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=1000)


class TriggerBody(_Body):
    message: TriggerKind
    evse_id: int | None = Field(default=None, ge=0)


class DataTransferBody(_Body):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = None


class CommandAnswer(BaseModel):
    station_id: str
    command: str
    status: str
    payload: dict[str, Any]
    values: dict[str, str | None] = Field(default_factory=dict)


async def dispatch(
    platform: PlatformDep,
    session: SessionDep,
    actor: audit.Actor,
    station_id: str,
    command: Command,
    *,
    timeout: float | None = None,
) -> CommandAnswer:
    """Send ``command`` through the platform's command bus and turn failures into problems."""
    if session.get(Station, station_id) is None:
        raise not_found("station")
    bus = platform.commands
    if bus is None:
        raise Problem(503, "no-gateway", "this process does not reach the OCPP gateway")
    name = type(command).__name__
    audit.record(
        session, actor, "station.command", object_type="station", object_id=station_id, command=name
    )
    session.commit()
    try:
        result = await bus.send(station_id, command, timeout=timeout)
    except StationOffline as exc:
        raise Problem(409, "station-offline", str(exc)) from exc
    except CommandTimeout as exc:
        raise Problem(504, "station-timeout", str(exc)) from exc
    except StationCallError as exc:
        raise Problem(502, "station-error", str(exc), ocpp_error_code=exc.code) from exc
    except (UnsupportedError, InvalidReplyError, ValueError) as exc:
        raise Problem(422, "command-not-expressible", str(exc)) from exc
    return CommandAnswer(
        station_id=station_id,
        command=name,
        status=result.status,
        payload=result.payload,
        values=result.values,
    )


@router.post("/start", summary="Start charging (RemoteStart / RequestStartTransaction)")
async def start(
    station_id: str,
    body: StartBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    token = IdToken(body.id_token, body.id_token_type)
    return await dispatch(
        platform, session, actor, station_id, StartCharging(token, evse_id=body.evse_id)
    )


@router.post("/stop", summary="Stop charging (RemoteStop / RequestStopTransaction)")
async def stop(
    station_id: str,
    body: StopBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(platform, session, actor, station_id, StopCharging(body.transaction_ref))


@router.post("/reset", summary="Reset the station")
async def reset(
    station_id: str,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
    body: Annotated[ResetBody | None, Body()] = None,
) -> CommandAnswer:
    return await dispatch(platform, session, actor, station_id, Reset((body or ResetBody()).mode))


@router.post("/unlock", summary="Unlock a connector")
async def unlock(
    station_id: str,
    body: UnlockBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(
        platform, session, actor, station_id, UnlockConnector(body.evse_id, body.connector_id)
    )


@router.post("/availability", summary="Change availability (operative / inoperative)")
async def availability(
    station_id: str,
    body: AvailabilityBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(
        platform, session, actor, station_id, ChangeAvailability(body.operative, body.evse_id)
    )


@router.post(
    "/get-configuration", summary="Read configuration (1.6 GetConfiguration, 2.0.1 GetVariables)"
)
async def get_configuration(
    station_id: str,
    body: GetConfigurationBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(platform, session, actor, station_id, GetConfiguration(tuple(body.keys)))


@router.post(
    "/configure", summary="Change configuration (1.6 ChangeConfiguration, 2.0.1 SetVariables)"
)
async def configure(
    station_id: str,
    body: ConfigureBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(platform, session, actor, station_id, Configure(body.key, body.value))


@router.post("/trigger", summary="Ask the station to send a message")
async def trigger(
    station_id: str,
    body: TriggerBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(platform, session, actor, station_id, Trigger(body.message, body.evse_id))


@router.post("/data-transfer", summary="Vendor-specific DataTransfer")
async def data_transfer(
    station_id: str,
    body: DataTransferBody,
    platform: PlatformDep,
    session: SessionDep,
    actor: ActorDep,
    _admin: Admin,
) -> CommandAnswer:
    return await dispatch(
        platform,
        session,
        actor,
        station_id,
        DataTransfer(body.vendor_id, body.message_id, body.data),
    )
