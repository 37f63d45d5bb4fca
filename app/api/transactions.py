"""Charging transactions: the list, and one transaction with its meter values and curve."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from app.api.bounds import PositiveInt32
from app.api.pagination import Page, PageQuery, paginate
from app.deps import AdminPrincipal, SessionDep
from app.problems import Problem, not_found
from charging.energy import charging_curve, energy_wh
from charging.history import TransactionFilter, transactions_query
from charging.ledger import ACTIVE, samples_of
from charging.tables import Transaction
from common.clock import as_utc

router = APIRouter(prefix="/api/v1", tags=["transactions"])


class TransactionPublic(BaseModel):
    id: int
    transaction_ref: str
    station_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    stop_reason: str | None
    remote_start_id: int | None = Field(
        default=None, description="the remoteStartId of the request that started it (2.x)"
    )
    started_by: str | None = Field(default=None, description="who asked for the remote start")
    links: dict[str, dict[str, str]] = Field(serialization_alias="_links")

    @classmethod
    def of(cls, tx: Transaction, *, energy: float | None = None) -> TransactionPublic:
        assert tx.id is not None
        return cls(
            id=tx.id,
            transaction_ref=tx.transaction_ref,
            station_id=tx.station_id,
            evse_id=tx.evse_id,
            connector_id=tx.connector_id,
            id_token=tx.id_token,
            state=tx.state,
            started_at=tx.started_at,
            ended_at=tx.ended_at,
            meter_start_wh=tx.meter_start_wh,
            meter_stop_wh=tx.meter_stop_wh,
            energy_wh=tx.energy_wh if energy is None else energy,
            stop_reason=tx.stop_reason,
            remote_start_id=tx.remote_start_id,
            started_by=tx.started_by,
            links={
                "self": {"href": f"/api/v1/transactions/{tx.id}"},
                "station": {"href": f"/api/v1/stations/{tx.station_id}"},
            },
        )


class MeterValuePublic(BaseModel):
    timestamp: datetime
    measurand: str
    phase: str | None
    value: float
    unit: str
    context: str | None


class CurvePointPublic(BaseModel):
    t: datetime
    power_w: float


class TransactionDetail(TransactionPublic):
    meter_values: list[MeterValuePublic]
    curve: list[CurvePointPublic]


@router.get("/transactions", summary="Transactions, filtered (admin)", response_model_by_alias=True)
def list_transactions(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    page: PageQuery,
    station_id: Annotated[str | None, Query(max_length=48)] = None,
    id_token: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    active: bool | None = None,
) -> Page[TransactionPublic]:
    since, until = as_utc(since), as_utc(until)
    if since is not None and until is not None and since > until:
        raise Problem(
            422,
            "validation-error",
            "invalid request: since is after until",
            errors=[{"field": "since", "message": "must not be after until"}],
        )
    query = transactions_query(
        TransactionFilter(
            station_id=station_id, id_token=id_token, since=since, until=until, active=active
        )
    )
    rows, total, links = paginate(session, query, page, request)
    return Page(
        items=[TransactionPublic.of(t) for t in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        links=links,
    )


@router.get(
    "/transactions/{transaction_id}",
    summary="A transaction with its meter values and charging curve (admin)",
    response_model_by_alias=True,
)
def get_transaction(
    transaction_id: Annotated[PositiveInt32, Path()],
    session: SessionDep,
    _admin: AdminPrincipal,
) -> TransactionDetail:
    tx = session.get(Transaction, transaction_id)
    if tx is None:
        raise not_found("transaction")
    samples = samples_of(session, transaction_id)
    energy = tx.energy_wh
    if tx.state == ACTIVE:
        energy = energy_wh(tx.meter_start_wh, None, samples)
    public = TransactionPublic.of(tx, energy=energy)
    return TransactionDetail(
        **public.model_dump(),
        meter_values=[
            MeterValuePublic(
                timestamp=s.timestamp,
                measurand=s.measurand,
                phase=s.phase,
                value=s.value,
                unit=s.unit,
                context=s.context,
            )
            for s in samples
        ],
        curve=[CurvePointPublic(t=p.t, power_w=p.power_w) for p in charging_curve(samples)],
    )
