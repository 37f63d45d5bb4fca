"""The catalog as lists for people to read: families with what their channels carry, and images
newest first, a page at a time (each list one bounded query, whatever the catalog's size)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from enrollment.tables import HardwareFamilyRow
from firmware.catalog import BUILTIN_CHANNELS
from firmware.tables import FirmwareChannelRow, FirmwareImageRow


@dataclass(frozen=True, slots=True)
class FamilyChannels:
    """A family and its channels in order (built-in ones first), with the image each carries."""

    family: HardwareFamilyRow
    channels: list[tuple[str, FirmwareImageRow | None]]


def families_with_channels(session: Session, *, offset: int, limit: int) -> list[FamilyChannels]:
    """Up to ``limit`` families by name from ``offset``, each with its channels (two queries)."""
    families = list(
        session.exec(
            select(HardwareFamilyRow)
            .order_by(col(HardwareFamilyRow.name))
            .offset(offset)
            .limit(limit)
        )
    )
    ids = [f.id for f in families if f.id is not None]
    carried: dict[int, dict[str, FirmwareImageRow | None]] = {i: {} for i in ids}
    if ids:
        rows = session.exec(
            select(FirmwareChannelRow, FirmwareImageRow)
            .join(
                FirmwareImageRow,
                col(FirmwareImageRow.id) == col(FirmwareChannelRow.image_id),
                isouter=True,
            )
            .where(col(FirmwareChannelRow.family_id).in_(ids))
        )
        for channel, image in rows:
            carried[channel.family_id][channel.name] = image
    result = []
    for family in families:
        own = carried.get(family.id or 0, {})
        names = [*BUILTIN_CHANNELS, *sorted(set(own) - set(BUILTIN_CHANNELS))]
        result.append(FamilyChannels(family, [(name, own.get(name)) for name in names]))
    return result


def images_page(
    session: Session, *, offset: int, limit: int, family_id: int | None = None
) -> list[tuple[FirmwareImageRow, str]]:
    """Images newest upload first with their family's name; ``limit`` rows from ``offset``."""
    query = (
        select(FirmwareImageRow, HardwareFamilyRow.name)
        .join(HardwareFamilyRow, col(HardwareFamilyRow.id) == col(FirmwareImageRow.family_id))
        .order_by(col(FirmwareImageRow.id).desc())
        .offset(offset)
        .limit(limit)
    )
    if family_id is not None:
        query = query.where(col(FirmwareImageRow.family_id) == family_id)
    return [(image, str(name)) for image, name in session.exec(query)]


__all__ = ["FamilyChannels", "families_with_channels", "images_page"]
