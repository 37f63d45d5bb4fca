"""The firmware catalog: images, channels per hardware family, which channel a station follows,
and the root a family's images are signed under. Queries and small audited changes; the
rollout service calls ``image``, ``station_channel``, ``channel_image``, ``promote`` and
``signing_root_pem``.

Every family has the built-in channels stable, beta and canary (a row is made when a channel
first carries an image) plus any custom channel an admin creates. A station follows its
family's ``default_channel`` unless it has an override (``StationChannelRow``). Images move from
channel to channel (canary -> beta -> stable) only through :func:`promote`, an explicit act.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import column, table
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common.clock import utcnow
from enrollment.tables import DeviceRow, HardwareFamilyRow
from firmware.audit_port import AuditFn, record
from firmware.errors import (
    ChannelExists,
    Downgrade,
    InvalidChannelName,
    InvalidSigningRoot,
    UnknownChannel,
    UnknownFamily,
    UnknownImage,
    UnknownStation,
    WrongFamily,
)
from firmware.signatures import SignatureAlgorithm
from firmware.tables import (
    FamilySigningRootRow,
    FamilySigningRow,
    FirmwareChannelRow,
    FirmwareImageRow,
    StationChannelRow,
)
from firmware.versions import is_newer, version_key

BUILTIN_CHANNELS = ("stable", "beta", "canary")
PROMOTION_ORDER = ("canary", "beta", "stable")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MAX_ROOT_CHARACTERS = 10_000


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel of a family and the image it carries (None: none yet)."""

    name: str
    builtin: bool
    image: FirmwareImageRow | None


# -- families and images ----------------------------------------------------------------------


def family(session: Session, name: str) -> HardwareFamilyRow:
    """Raises UnknownFamily."""
    row = session.exec(select(HardwareFamilyRow).where(HardwareFamilyRow.name == name)).first()
    if row is None:
        raise UnknownFamily(name)
    return row


def family_by_id(session: Session, family_id: int) -> HardwareFamilyRow:
    row = session.get(HardwareFamilyRow, family_id)
    if row is None:
        raise UnknownFamily(str(family_id))
    return row


def image(session: Session, image_id: int) -> FirmwareImageRow:
    """Raises UnknownImage."""
    row = session.get(FirmwareImageRow, image_id)
    if row is None:
        raise UnknownImage(image_id)
    return row


def image_by_version(session: Session, family_id: int, version: str) -> FirmwareImageRow | None:
    query = select(FirmwareImageRow).where(
        FirmwareImageRow.family_id == family_id, FirmwareImageRow.version == version
    )
    return session.exec(query).first()


def channels_carrying(session: Session, image_id: int) -> list[str]:
    query = select(FirmwareChannelRow.name).where(FirmwareChannelRow.image_id == image_id)
    return sorted(session.exec(query).all())


# -- channels ----------------------------------------------------------------------------------


def checked_channel_name(name: str) -> str:
    if not CHANNEL_NAME.match(name):
        raise InvalidChannelName(
            f"a channel name is 1 to 32 lower-case letters, digits or ._- , not {name[:40]!r}"
        )
    return name


def channels(session: Session, family_id: int) -> list[Channel]:
    """The built-in channels first (in promotion order, reversed), then custom ones by name."""
    query = select(FirmwareChannelRow).where(FirmwareChannelRow.family_id == family_id)
    rows = {row.name: row for row in session.exec(query).all()}
    result = []
    for name in (*BUILTIN_CHANNELS, *sorted(set(rows) - set(BUILTIN_CHANNELS))):
        row = rows.get(name)
        carried = image(session, row.image_id) if row and row.image_id is not None else None
        result.append(Channel(name, name in BUILTIN_CHANNELS, carried))
    return result


def has_channel(session: Session, family_id: int, name: str) -> bool:
    return name in BUILTIN_CHANNELS or _channel_row(session, family_id, name) is not None


def _channel_row(session: Session, family_id: int, name: str) -> FirmwareChannelRow | None:
    query = select(FirmwareChannelRow).where(
        FirmwareChannelRow.family_id == family_id, FirmwareChannelRow.name == name
    )
    return session.exec(query).first()


def create_channel(
    session: Session, family_row: HardwareFamilyRow, name: str, *, audit: AuditFn, actor: Any
) -> Channel:
    """A custom channel (no image yet). Raises InvalidChannelName, ChannelExists."""
    checked_channel_name(name)
    assert family_row.id is not None
    if name in BUILTIN_CHANNELS or _channel_row(session, family_row.id, name) is not None:
        raise ChannelExists(family_row.name, name)
    try:
        with session.begin_nested():
            session.add(FirmwareChannelRow(family_id=family_row.id, name=name))
    except IntegrityError as exc:  # created concurrently
        raise ChannelExists(family_row.name, name) from exc
    record(audit, session, actor, "firmware.channel_created", family_row.name, channel=name)
    return Channel(name, False, None)


def channel_image(session: Session, family_id: int, channel: str) -> FirmwareImageRow | None:
    """The image ``channel`` of the family carries, None if none (or no such channel)."""
    row = _channel_row(session, family_id, channel)
    if row is None or row.image_id is None:
        return None
    return session.get(FirmwareImageRow, row.image_id)


def set_channel_image(
    session: Session,
    family_row: HardwareFamilyRow,
    channel: str,
    image_id: int | None,
    *,
    audit: AuditFn,
    actor: Any,
) -> Channel:
    """Put an image on (or, with None, take every image off) a channel of the family.

    Raises:
        UnknownChannel, UnknownImage, WrongFamily.
    """
    assert family_row.id is not None
    carried = None if image_id is None else image(session, image_id)
    if carried is not None and carried.family_id != family_row.id:
        raise WrongFamily(
            f"image {carried.id} ({carried.version}) is not an image of family {family_row.name!r}"
        )
    row = _channel_row(session, family_row.id, channel)
    if row is None:
        if channel not in BUILTIN_CHANNELS:
            raise UnknownChannel(family_row.name, channel)
        row = _builtin_row(session, family_row.id, channel)
    previous = row.image_id
    row.image_id = image_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record(
        audit,
        session,
        actor,
        "firmware.channel_image_set",
        family_row.name,
        channel=channel,
        image_id=image_id,
        version=carried.version if carried else None,
        previous_image_id=previous,
    )
    return Channel(channel, channel in BUILTIN_CHANNELS, carried)


def _builtin_row(session: Session, family_id: int, channel: str) -> FirmwareChannelRow:
    try:
        with session.begin_nested():
            row = FirmwareChannelRow(family_id=family_id, name=channel)
            session.add(row)
        return row
    except IntegrityError:  # another transaction made it first
        existing = _channel_row(session, family_id, channel)
        assert existing is not None
        return existing


def promote(
    session: Session,
    image_id: int,
    channel: str,
    actor: Any,
    *,
    force: bool = False,
    audit: AuditFn = None,
) -> Channel:
    """Put ``image_id`` on ``channel`` of its own family (an explicit act; audited).

    Called by the admin API and by the rollout service at the end of a rollout. An image older
    than the one the channel carries is refused unless ``force``.

    Raises:
        UnknownImage, UnknownChannel, Downgrade.
    """
    promoted = image(session, image_id)
    family_row = family_by_id(session, promoted.family_id)
    current = channel_image(session, promoted.family_id, channel)
    if current is not None and not force and is_newer(current.version, promoted.version):
        raise Downgrade(
            f"channel {channel!r} of {family_row.name!r} carries {current.version}, newer than"
            f" {promoted.version}: promote with force to go back"
        )
    was_on = channels_carrying(session, image_id)
    result = set_channel_image(session, family_row, channel, image_id, audit=_no_audit, actor=actor)
    record(
        audit,
        session,
        actor,
        "firmware.image_promoted",
        family_row.name,
        image_id=image_id,
        version=promoted.version,
        channel=channel,
        from_channels=was_on,
        replaced_image_id=current.id if current else None,
        forced=force,
    )
    return result


def _no_audit(*_args: object, **_kwargs: object) -> None:
    """Promotion records its own entry; the channel change under it needs none."""


# -- stations ----------------------------------------------------------------------------------


def station_channel(session: Session, station_id: str) -> tuple[int, str]:
    """``(family id, channel)`` the station follows. Raises UnknownStation."""
    device = session.get(DeviceRow, station_id)
    if device is None:
        raise UnknownStation(station_id)
    override = session.get(StationChannelRow, station_id)
    if override is not None:
        return device.family_id, override.channel
    return device.family_id, family_by_id(session, device.family_id).default_channel


def set_station_channel(
    session: Session, station_id: str, channel: str | None, *, audit: AuditFn, actor: Any
) -> tuple[int, str]:
    """Make a station follow ``channel`` (None: its family's default again).

    Raises:
        UnknownStation (no device, or no station row yet), UnknownChannel.
    """
    from charging.tables import Station  # the override's foreign key

    device = session.get(DeviceRow, station_id)
    if device is None or session.get(Station, station_id) is None:
        raise UnknownStation(station_id)
    family_row = family_by_id(session, device.family_id)
    override = session.get(StationChannelRow, station_id)
    if channel is None:
        if override is not None:
            session.delete(override)
    else:
        if not has_channel(session, device.family_id, checked_channel_name(channel)):
            raise UnknownChannel(family_row.name, channel)
        if override is None:
            override = StationChannelRow(station_id=station_id, channel=channel)
        override.channel = channel
        override.updated_at = utcnow()
        session.add(override)
    session.flush()
    record(
        audit,
        session,
        actor,
        "firmware.station_channel_set",
        family_row.name,
        station_id=station_id,
        channel=channel,
    )
    return station_channel(session, station_id)


# -- signing roots and algorithms --------------------------------------------------------------

_CA_MATERIAL = table("ca_material", column("role"), column("certificate_pem"))


def platform_root_pem(session: Session) -> str:
    """The platform's own manufacturer root, read from the CA's table (by name: the CA is
    wired in ``app``, which firmware does not import). Raises LookupError before ``pki init``."""
    query = select(_CA_MATERIAL.c.certificate_pem).where(_CA_MATERIAL.c.role == "manufacturer-root")
    pem = session.exec(query).first()
    if pem is None:
        raise LookupError("the platform's manufacturer root does not exist yet")
    return str(pem[0] if isinstance(pem, tuple) else pem)


def vendor_root_pem(session: Session, family_id: int) -> str | None:
    row = session.get(FamilySigningRootRow, family_id)
    return None if row is None else row.certificate


def signing_root_pem(session: Session, family_id: int) -> str:
    """The root a family's images are signed under: its vendor's, else the platform's."""
    return vendor_root_pem(session, family_id) or platform_root_pem(session)


def signature_algorithm(session: Session, family_id: int) -> SignatureAlgorithm:
    """The scheme the family's stations verify: RSA-PSS/SHA-256 unless set otherwise."""
    row = session.get(FamilySigningRow, family_id)
    return (
        SignatureAlgorithm.RSA_PSS_SHA256
        if row is None
        else SignatureAlgorithm(row.signature_algorithm)
    )


def set_signing(
    session: Session,
    family_row: HardwareFamilyRow,
    *,
    certificate_pem: str | None,
    clear_root: bool = False,
    algorithm: SignatureAlgorithm | None = None,
    audit: AuditFn,
    actor: Any,
) -> None:
    """Name the vendor's own root (or, with ``clear_root``, the platform's again) and/or the
    signature algorithm of a family. Raises InvalidSigningRoot."""
    assert family_row.id is not None
    detail: dict[str, object] = {}
    if certificate_pem is not None:
        root = checked_root(certificate_pem)
        row = session.get(FamilySigningRootRow, family_row.id) or FamilySigningRootRow(
            family_id=family_row.id, certificate=""
        )
        row.certificate = certificate_pem.strip() + "\n"
        row.updated_at = utcnow()
        session.add(row)
        detail["root_subject"] = root.subject.rfc4514_string()
        detail["root_serial"] = f"{root.serial_number:X}"
    elif clear_root:
        existing = session.get(FamilySigningRootRow, family_row.id)
        if existing is not None:
            session.delete(existing)
        detail["root"] = "platform"
    if algorithm is not None:
        setting = session.get(FamilySigningRow, family_row.id) or FamilySigningRow(
            family_id=family_row.id, signature_algorithm=algorithm.value
        )
        setting.signature_algorithm = algorithm.value
        setting.updated_at = utcnow()
        session.add(setting)
        detail["algorithm"] = algorithm.value
    session.flush()
    record(audit, session, actor, "firmware.family_signing_set", family_row.name, **detail)


def checked_root(certificate_pem: str) -> x509.Certificate:
    """A vendor's manufacturer root: one self-signed CA certificate in PEM."""
    if len(certificate_pem) > MAX_ROOT_CHARACTERS:
        raise InvalidSigningRoot(f"a signing root is at most {MAX_ROOT_CHARACTERS} characters")
    try:
        certs = x509.load_pem_x509_certificates(certificate_pem.encode())
    except (ValueError, UnicodeError) as exc:
        raise InvalidSigningRoot("the signing root is not a PEM certificate") from exc
    if len(certs) != 1:
        raise InvalidSigningRoot("the signing root must be exactly one certificate")
    root = certs[0]
    try:
        constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InvalidSigningRoot("the signing root is not a CA certificate")
    try:
        root.verify_directly_issued_by(root)
    except Exception as exc:  # noqa: BLE001 - any failure means not self-signed
        raise InvalidSigningRoot("the signing root is not self-signed") from exc
    return root


def images_of(session: Session, family_id: int | None = None) -> list[FirmwareImageRow]:
    """Images by family, newest version first (semantic order)."""
    query = select(FirmwareImageRow).order_by(col(FirmwareImageRow.id))
    if family_id is not None:
        query = query.where(FirmwareImageRow.family_id == family_id)
    rows = list(session.exec(query).all())
    rows.sort(key=lambda row: version_key(row.version), reverse=True)
    rows.sort(key=lambda row: row.family_id)
    return rows
