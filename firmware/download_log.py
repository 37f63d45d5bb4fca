"""Writing the download log (``firmware_downloads``): one row per download or refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.clock import utcnow
from firmware.download_tables import FirmwareDownloadRow
from firmware.downloads import DownloadGrant

__all__ = ["DownloadRecord", "record_download"]


@dataclass(frozen=True, slots=True)
class DownloadRecord:
    protocol: str
    outcome: str
    grant: DownloadGrant | None = None
    range_start: int | None = None
    range_end: int | None = None
    bytes_sent: int = 0
    detail: str = ""
    client_address: str = ""
    at: datetime = field(default_factory=utcnow)


def record_download(engine: Engine, record: DownloadRecord) -> None:
    """Add the record in its own short transaction (it must stay even when nothing else does)."""
    grant = record.grant
    with Session(engine) as session:
        session.add(
            FirmwareDownloadRow(
                station_id=grant.station_id if grant else None,
                image_id=grant.image_id if grant else None,
                target_id=grant.target_id if grant else None,
                protocol=record.protocol,
                range_start=record.range_start,
                range_end=record.range_end,
                bytes_sent=record.bytes_sent,
                outcome=record.outcome,
                detail=record.detail[:300],
                client_address=record.client_address[:64],
                at=record.at,
            )
        )
        session.commit()
