# ruff: noqa: T201 - a command line prints
"""``chargeline firmware``: images, channels and signing roots, straight on the database.

Like ``devices``, these commands open the platform's database (and its firmware store) with
the same settings as the server; every change is audited as ``cli``.

    chargeline firmware upload fw.bin --family wallbox --version 1.4.2 --sign [--notes TEXT]
    chargeline firmware upload fw.bin --family wallbox --version 1.4.2 \\
        --signature fw.sig --certificate signer.pem
    chargeline firmware list [--family wallbox]
    chargeline firmware promote 7 beta [--force]
    chargeline firmware channels wallbox [--add field-test]
    chargeline firmware signing-root wallbox --certificate vendor-root.pem [--algorithm ...]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app import audit
from app.ca.errors import CAError
from app.cli.common import CLI_ACTOR, add_common
from app.firmware_accept import accept_upload
from app.migrate import upgrade
from app.platform import Platform
from firmware import catalog, images
from firmware.errors import FirmwareError
from firmware.signatures import SignatureAlgorithm
from firmware.staging import StagedImage
from firmware.storage import CHUNK
from firmware.tables import FirmwareImageRow

__all__ = ["add_firmware_commands"]


def add_firmware_commands(subparsers: Any) -> None:
    """Add ``firmware`` and its actions to the ``chargeline`` parser's ``subparsers``."""
    group = subparsers.add_parser("firmware", help="firmware images, channels, signing roots")
    sub = group.add_subparsers(dest="firmware_command", required=True, metavar="ACTION")

    up = sub.add_parser("upload", help="check, sign or verify, and store a firmware image")
    add_common(up)
    up.add_argument("file", type=Path)
    up.add_argument("--family", required=True)
    up.add_argument("--version", required=True)
    up.add_argument("--notes", default="", help="release notes")
    up.add_argument("--sha256", help="the digest the file must have")
    how = up.add_mutually_exclusive_group(required=True)
    how.add_argument("--sign", action="store_true", help="the platform signs it")
    how.add_argument("--signature", type=Path, help="a signature file (raw or base64)")
    how.add_argument("--unsigned", action="store_true", help="store it without a signature")
    up.add_argument("--certificate", type=Path, help="the signing certificate (PEM)")
    up.set_defaults(handler=_upload)

    listing = sub.add_parser("list", help="the images, newest version first")
    add_common(listing)
    listing.add_argument("--family")
    listing.set_defaults(handler=_list)

    promote = sub.add_parser("promote", help="put an image on a channel of its family")
    add_common(promote)
    promote.add_argument("image_id", type=int, metavar="ID")
    promote.add_argument("channel", metavar="CHANNEL")
    promote.add_argument("--force", action="store_true", help="allow an older version")
    promote.set_defaults(handler=_promote)

    channels = sub.add_parser("channels", help="a family's channels and their images")
    add_common(channels)
    channels.add_argument("family", metavar="FAMILY")
    channels.add_argument("--add", metavar="NAME", help="first add a custom channel")
    channels.set_defaults(handler=_channels)

    root = sub.add_parser("signing-root", help="the root a family's images are signed under")
    add_common(root)
    root.add_argument("family", metavar="FAMILY")
    which = root.add_mutually_exclusive_group()
    which.add_argument("--certificate", type=Path, help="the vendor's own root (PEM)")
    which.add_argument("--platform", action="store_true", help="the platform's root again")
    root.add_argument("--algorithm", choices=[a.value for a in SignatureAlgorithm])
    root.set_defaults(handler=_signing_root)


def _fail(message: str) -> int:
    print(f"chargeline: {message}", file=sys.stderr)
    return 1


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FirmwareError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def _signature_text(raw: bytes) -> str:
    """A signature file as openssl writes it (raw bytes) or already in base64."""
    try:
        text = raw.decode("ascii").strip()
        base64.b64decode(text, validate=True)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return base64.b64encode(raw).decode("ascii")
    return text


def _line(session: Session, row: FirmwareImageRow) -> str:
    family = catalog.family_by_id(session, row.family_id).name
    on = ",".join(catalog.channels_carrying(session, row.id or 0)) or "-"
    signed = row.signature_algorithm or "unsigned"
    return f"{row.id}\t{family}\t{row.version}\t{row.size}\t{row.sha256}\t{signed}\t{on}"


def _upload(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    if args.signature is not None and args.certificate is None:
        return _fail("--signature needs --certificate")
    try:
        signature = certificate = None
        if args.signature is not None:
            signature = _signature_text(_read(args.signature, "signature"))
            certificate = _read(args.certificate, "certificate").decode("utf-8", "replace")
        upload = images.ImageUpload(
            family=args.family,
            version=args.version,
            filename=args.file.name,
            release_notes=args.notes,
            sha256=args.sha256,
            sign=args.sign,
            signature=signature,
            certificate=certificate,
            unsigned=args.unsigned,
        ).checked()
        settings = platform.settings
        with StagedImage(
            settings.data_dir / "staging", max_bytes=settings.firmware_max_bytes
        ) as staged:
            try:
                with args.file.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        staged.write(chunk)
            except OSError as exc:
                raise FirmwareError(f"cannot read {args.file}: {exc.strerror}") from exc
            with Session(platform.engine, expire_on_commit=False) as session:
                row = accept_upload(platform, session, upload, staged, CLI_ACTOR)
                print(_line(session, row))
    except (FirmwareError, CAError) as exc:
        return _fail(str(exc))
    return 0


def _list(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        try:
            family_id = None if args.family is None else catalog.family(session, args.family).id
        except FirmwareError as exc:
            return _fail(str(exc))
        print("ID\tFAMILY\tVERSION\tSIZE\tSHA256\tSIGNATURE\tCHANNELS")
        for row in catalog.images_of(session, family_id):
            print(_line(session, row))
    return 0


def _promote(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        try:
            catalog.promote(
                session,
                args.image_id,
                args.channel,
                CLI_ACTOR,
                force=args.force,
                audit=audit.record,
            )
            session.commit()
        except FirmwareError as exc:
            return _fail(str(exc))
        print(_line(session, catalog.image(session, args.image_id)))
    return 0


def _channels(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        try:
            family = catalog.family(session, args.family)
            if args.add:
                catalog.create_channel(
                    session, family, args.add, audit=audit.record, actor=CLI_ACTOR
                )
                session.commit()
        except FirmwareError as exc:
            return _fail(str(exc))
        assert family.id is not None
        for channel in catalog.channels(session, family.id):
            default = " (default)" if channel.name == family.default_channel else ""
            carried = (
                "-"
                if channel.image is None
                else f"{channel.image.version} (image {channel.image.id})"
            )
            print(f"{channel.name}{default}\t{carried}")
    return 0


def _signing_root(args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        try:
            family = catalog.family(session, args.family)
            pem = None
            if args.certificate is not None:
                pem = _read(args.certificate, "certificate").decode("utf-8", "replace")
            catalog.set_signing(
                session,
                family,
                certificate_pem=pem,
                clear_root=args.platform,
                algorithm=None if args.algorithm is None else SignatureAlgorithm(args.algorithm),
                audit=audit.record,
                actor=CLI_ACTOR,
            )
            session.commit()
        except FirmwareError as exc:
            return _fail(str(exc))
        assert family.id is not None
        root = "vendor" if catalog.vendor_root_pem(session, family.id) else "platform"
        algorithm = catalog.signature_algorithm(session, family.id)
        print(f"{family.name}: signed under the {root} root with {algorithm}")
    return 0
