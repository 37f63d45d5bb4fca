"""Remote commands: the REST API asks a station something and returns the station's answer.

Offline station -> 409, no answer in time -> 504, a CALLERROR from the station -> 502 with its
OCPP code, a command the station's OCPP version cannot express -> 422. A station that answers
``Rejected`` gets a 200 with that status: its answer is passed through, not hidden.
"""

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from app import audit
from app.api.bounds import NonNegativeInt32, PositiveInt32
from app.deps import ActorDep, PlatformDep, SessionDep, require_role
from app.identity.jwt_tokens import Principal
from app.problems import Problem, not_found
from charging import remote_starts
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
    TriggerCertificateSigning,
    TriggerKind,
    UnlockConnector,
)
from charging.events import CertificateSigningUse, IdToken, IdTokenType
from charging.tables import Station
from common.clock import utcnow

router = APIRouter(prefix="/api/v1/stations/{station_id}/commands", tags=["commands"])

Admin = Annotated[Principal, Depends(require_role("admin"))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartBody(_Body):
    id_token: str = Field(min_length=1, max_length=36)
    id_token_type: IdTokenType = IdTokenType.ISO14443
    evse_id: PositiveInt32 | None = None


class StopBody(_Body):
    transaction_ref: str = Field(min_length=1, max_length=36)


class ResetBody(_Body):
    mode: ResetMode = ResetMode.ON_IDLE


class UnlockBody(_Body):
    evse_id: PositiveInt32
    connector_id: PositiveInt32 = 1


class AvailabilityBody(_Body):
    operative: bool
    evse_id: NonNegativeInt32 | None = None


class GetConfigurationBody(_Body):
    keys: list[str] = Field(default_factory=list, max_length=100)


class ConfigureBody(_Body):
    key: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=1000)


class CertificateTrigger(StrEnum):
    """Certificate signing triggers: 2.0.1 MessageTriggerEnumType names, and the 1.6 Security
    Whitepaper's ExtendedTriggerMessage name for the station certificate."""

    SIGN_CHARGING_STATION_CERTIFICATE = "SignChargingStationCertificate"
    SIGN_CHARGE_POINT_CERTIFICATE = "SignChargePointCertificate"
    SIGN_V2G_CERTIFICATE = "SignV2GCertificate"


_SIGNING_USE = {
    CertificateTrigger.SIGN_CHARGING_STATION_CERTIFICATE: CertificateSigningUse.CHARGING_STATION,
    CertificateTrigger.SIGN_CHARGE_POINT_CERTIFICATE: CertificateSigningUse.CHARGING_STATION,
    CertificateTrigger.SIGN_V2G_CERTIFICATE: CertificateSigningUse.V2G,
}


class TriggerBody(_Body):
    message: TriggerKind | CertificateTrigger
    evse_id: NonNegativeInt32 | None = None


def trigger_command(body: TriggerBody) -> Command:
    """A certificate kind asks for a CSR (1.6 ExtendedTriggerMessage, 2.x TriggerMessage)."""
    if isinstance(body.message, CertificateTrigger):
        return TriggerCertificateSigning(_SIGNING_USE[body.message])
    return Trigger(body.message, body.evse_id)


DATA_TRANSFER_MAX_CHARS = 64 * 1024


class DataTransferBody(_Body):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: Any = Field(
        default=None,
        description=f"any JSON value, at most {DATA_TRANSFER_MAX_CHARS} characters serialised",
    )

    @field_validator("data")
    @classmethod
    def _fits_a_frame(cls, data: Any) -> Any:
        """The station reads the data inside one OCPP frame; keep it well below frame limits."""
        if len(json.dumps(data, separators=(",", ":"))) > DATA_TRANSFER_MAX_CHARS:
            raise ValueError(f"data is longer than {DATA_TRANSFER_MAX_CHARS} characters")
        return data


class CommandAnswer(BaseModel):
    station_id: str
    command: str
    status: str
    payload: dict[str, Any]
    values: dict[str, str | None] = Field(default_factory=dict)
    remote_start_id: int | None = Field(
        default=None, description="start only: the remoteStartId the request carried"
    )


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
    name = type(command).__name__

    def record() -> bool:
        if session.get(Station, station_id) is None:
            return False
        audit.record(
            session,
            actor,
            "station.command",
            object_type="station",
            object_id=station_id,
            command=name,
        )
        session.commit()
        return True

    # The database may make us wait (SQLite's writer lock): not on the event loop.
    if not await run_in_threadpool(record):
        raise not_found("station")
    bus = platform.commands
    if bus is None:
        raise Problem(503, "no-gateway", "this process does not reach the OCPP gateway")
    try:
        result = await bus.send(station_id, command, timeout=timeout)
    except ValueError as exc:  # a command the station's version cannot say
        raise Problem(422, "command-not-expressible", str(exc)) from exc
    return CommandAnswer(
        station_id=station_id,
        command=name,
        status=result.status,
        payload=result.payload,
        values=result.values,
    )


def _command_route(
    path: str, summary: str, body_type: type[_Body], to_command: Callable[[Any], Command]
) -> None:
    """Register ``POST .../commands/{path}``: parse ``body_type``, send ``to_command(body)``.

    A body whose fields all have defaults may be left out.
    """
    optional = all(not f.is_required() for f in body_type.model_fields.values())

    async def endpoint(
        station_id: str,
        platform: PlatformDep,
        session: SessionDep,
        actor: ActorDep,
        _admin: Admin,
        body: Annotated[body_type | None, Body()] = None,  # type: ignore[valid-type]
    ) -> CommandAnswer:
        if body is None:
            if not optional:
                raise Problem(
                    422,
                    "validation-error",
                    "invalid request: body",
                    errors=[{"field": "body", "message": "Field required"}],
                )
            body = body_type()
        return await dispatch(platform, session, actor, station_id, to_command(body))

    endpoint.__name__ = path.replace("-", "_")
    router.post(f"/{path}", summary=summary)(endpoint)


async def start_charging(
    platform: PlatformDep,
    session: SessionDep,
    actor: audit.Actor,
    station_id: str,
    id_token: IdToken,
    evse_id: int | None,
) -> CommandAnswer:
    """Send StartCharging with a new ``remoteStartId`` recorded as asked by ``actor``; the
    transaction the station starts with it names the request and ``actor`` (2.0.1 F01/F02)."""

    def allocate() -> int | None:
        if session.get(Station, station_id) is None:
            return None
        remote_start_id = remote_starts.record_request(
            session,
            station_id=station_id,
            id_token=id_token.value,
            evse_id=evse_id,
            requested_by=actor.name,
            now=utcnow(),
        )
        session.commit()
        return remote_start_id

    remote_start_id = await run_in_threadpool(allocate)
    if remote_start_id is None:
        raise not_found("station")
    command = StartCharging(id_token, evse_id=evse_id, remote_start_id=remote_start_id)
    answer = await dispatch(platform, session, actor, station_id, command)
    answer.remote_start_id = remote_start_id
    return answer


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
    return await start_charging(platform, session, actor, station_id, token, body.evse_id)


COMMANDS: dict[str, tuple[str, type[_Body], Callable[[Any], Command]]] = {
    "stop": (
        "Stop charging (RemoteStop / RequestStopTransaction)",
        StopBody,
        lambda b: StopCharging(b.transaction_ref),
    ),
    "reset": ("Reset the station", ResetBody, lambda b: Reset(b.mode)),
    "unlock": (
        "Unlock a connector",
        UnlockBody,
        lambda b: UnlockConnector(b.evse_id, b.connector_id),
    ),
    "availability": (
        "Change availability (operative / inoperative)",
        AvailabilityBody,
        lambda b: ChangeAvailability(b.operative, b.evse_id),
    ),
    "get-configuration": (
        "Read configuration (GetConfiguration / GetVariables)",
        GetConfigurationBody,
        lambda b: GetConfiguration(tuple(b.keys)),
    ),
    "configure": (
        "Change configuration (ChangeConfiguration / SetVariables)",
        ConfigureBody,
        lambda b: Configure(b.key, b.value),
    ),
    "trigger": (
        "Ask the station to send a message (or a CSR: SignChargingStationCertificate, ...)",
        TriggerBody,
        trigger_command,
    ),
    "data-transfer": (
        "Vendor-specific DataTransfer",
        DataTransferBody,
        lambda b: DataTransfer(b.vendor_id, b.message_id, b.data),
    ),
}
"""Every command but start: its path, summary, body and how the body becomes the command
(the dashboard's forms parse into the same bodies)."""

for _path, (_summary, _body_type, _to_command) in COMMANDS.items():
    _command_route(_path, _summary, _body_type, _to_command)
