"""Finding issued certificates: one query for the REST list, the CLI and the dashboard.

A certificate's *state* is what an operator asks about (RFC 5280 terms): ``valid`` (issued, not
yet past its notAfter), ``expired`` (issued, past it), ``revoked`` (any reason but superseded)
and ``superseded`` (revoked because a newer certificate replaced it). The stored ``status`` is
only issued/revoked; the state adds the time and the revocation reason.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import and_, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from app.ca.keys import normalise_serial
from app.ca.tables import CertificateStatus, IssuedCertificateRow
from common.clock import as_utc
from pki import RevocationReason


class CertificateState(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


def state_of(row: IssuedCertificateRow, now: datetime) -> CertificateState:
    if row.status == CertificateStatus.REVOKED:
        if row.revocation_reason == RevocationReason.SUPERSEDED:
            return CertificateState.SUPERSEDED
        return CertificateState.REVOKED
    return CertificateState.EXPIRED if as_utc(row.not_after) <= now else CertificateState.VALID


@dataclass(frozen=True, slots=True)
class CertificateFilter:
    """What to look for; every field given narrows the list (None: any)."""

    station_id: str | None = None
    user_id: str | None = None
    status: CertificateStatus | None = None
    state: CertificateState | None = None
    serial: str | None = None
    """Any hex spelling (``0a:1b``, ``0x0A1B``); ``ValueError`` if it is not hex."""
    text: str | None = None
    """A serial number, or the start of the subject CN, station id or user id."""
    expiring_within: timedelta | None = None
    """Live certificates whose notAfter falls within this time from ``now``."""


def _text_match(text: str) -> Any:
    matches = [
        col(IssuedCertificateRow.subject_cn).startswith(text, autoescape=True),
        col(IssuedCertificateRow.station_id).startswith(text, autoescape=True),
        col(IssuedCertificateRow.user_id).startswith(text, autoescape=True),
    ]
    with contextlib.suppress(ValueError):
        matches.append(col(IssuedCertificateRow.serial_hex) == normalise_serial(text))
    return or_(*matches)


def _state_match(state: CertificateState, now: datetime) -> Any:
    issued = col(IssuedCertificateRow.status) == CertificateStatus.ISSUED.value
    revoked = col(IssuedCertificateRow.status) == CertificateStatus.REVOKED.value
    reason = col(IssuedCertificateRow.revocation_reason)
    superseded = reason == RevocationReason.SUPERSEDED.value
    if state is CertificateState.VALID:
        return and_(issued, col(IssuedCertificateRow.not_after) > now)
    if state is CertificateState.EXPIRED:
        return and_(issued, col(IssuedCertificateRow.not_after) <= now)
    if state is CertificateState.SUPERSEDED:
        return and_(revoked, superseded)
    return and_(revoked, or_(reason.is_(None), reason != RevocationReason.SUPERSEDED.value))


def certificate_query(
    wanted: CertificateFilter, *, now: datetime
) -> SelectOfScalar[IssuedCertificateRow]:
    """The certificates matching ``wanted``, newest first (every filter is on an indexed column
    but the text's CN prefix).

    Raises:
        ValueError: ``wanted.serial`` is not a hexadecimal serial number.
    """
    query = select(IssuedCertificateRow).order_by(col(IssuedCertificateRow.id).desc())
    if wanted.serial is not None:
        query = query.where(IssuedCertificateRow.serial_hex == normalise_serial(wanted.serial))
    if wanted.station_id is not None:
        query = query.where(IssuedCertificateRow.station_id == wanted.station_id)
    if wanted.user_id is not None:
        query = query.where(IssuedCertificateRow.user_id == wanted.user_id)
    if wanted.status is not None:
        query = query.where(IssuedCertificateRow.status == wanted.status.value)
    if wanted.state is not None:
        query = query.where(_state_match(wanted.state, now))
    if wanted.text:
        query = query.where(_text_match(wanted.text))
    if wanted.expiring_within is not None:
        query = query.where(
            IssuedCertificateRow.status == CertificateStatus.ISSUED.value,
            col(IssuedCertificateRow.not_after) > now,
            col(IssuedCertificateRow.not_after) <= now + wanted.expiring_within,
        )
    return query
