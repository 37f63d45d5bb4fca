"""Remote start requests and the transactions they start (OCPP 2.0.1 F01/F02).

Each RequestStartTransaction carries its own ``remoteStartId``: ``record_request`` allocates it
from the ``remote_starts`` table (a database identity, so ids never repeat, across restarts and
processes). The station echoes it in ``transactionInfo.remoteStartId`` of the TransactionEvent
that starts (or, if the EV was plugged in first, updates) the transaction; ``link`` then ties
the transaction to the request and to who asked. OCPP 1.6 RemoteStartTransaction has no such id.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from charging.tables import RemoteStart, Transaction


def record_request(
    session: Session,
    *,
    station_id: str,
    id_token: str,
    evse_id: int | None,
    requested_by: str,
    now: datetime,
) -> int:
    """Record a remote start request (uncommitted) and return its new ``remoteStartId``."""
    request = RemoteStart(
        station_id=station_id,
        evse_id=evse_id,
        id_token=id_token,
        requested_by=requested_by[:120],
        requested_at=now,
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    return request.id


def link(session: Session, tx: Transaction, remote_start_id: int) -> bool:
    """Tie ``tx`` to the request that ``remote_start_id`` names, if it was made to the same
    station; an id the platform never handed to this station is ignored. True if linked."""
    if tx.remote_start_id is not None:
        return tx.remote_start_id == remote_start_id
    request = session.get(RemoteStart, remote_start_id)
    if request is None or request.station_id != tx.station_id:
        return False
    tx.remote_start_id = remote_start_id
    tx.started_by = request.requested_by
    session.add(tx)
    return True
