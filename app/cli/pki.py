"""``chargeline pki``: create the CA, list, issue and revoke certificates from the shell.

chargeline pki init
chargeline pki list [--station ID] [--status issued|revoked]
chargeline pki issue --csr FILE --station ID [--out FILE]
chargeline pki revoke SERIAL --reason keyCompromise
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.ca import CAError
from app.ca.search import CertificateFilter, certificate_query
from app.ca.tables import CertificateStatus
from app.cli.common import CLI_ACTOR, CliError, add_common
from app.migrate import upgrade
from app.platform import Platform
from common.clock import utcnow
from pki import PkiError, RevocationReason


def say(text: str) -> None:
    """One line of output for the operator."""
    sys.stdout.write(text + "\n")


def add_pki_commands(subparsers: Any) -> None:
    """Add ``pki init | list | issue | revoke`` to the ``chargeline`` parser."""
    pki = subparsers.add_parser("pki", help="the platform's certificate authority")
    sub = pki.add_subparsers(dest="pki_command", required=True, metavar="ACTION")

    init = sub.add_parser("init", help="create the CA hierarchies (does nothing if they exist)")
    add_common(init)
    init.set_defaults(handler=_init)

    listing = sub.add_parser("list", help="issued certificates, newest first")
    add_common(listing)
    listing.add_argument("--station", help="only this station's certificates")
    listing.add_argument("--status", choices=[s.value for s in CertificateStatus])
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=_list)

    issue = sub.add_parser("issue", help="sign a station's CSR (PEM file)")
    add_common(issue)
    issue.add_argument("--csr", required=True, type=Path, help="PKCS#10 PEM file")
    issue.add_argument("--station", required=True, help="station id; the CSR's CN must match")
    issue.add_argument("--out", type=Path, help="write the chain here (default: print it)")
    issue.set_defaults(handler=_issue)

    revoke = sub.add_parser("revoke", help="revoke a certificate by serial number (hex)")
    add_common(revoke)
    revoke.add_argument("serial")
    revoke.add_argument(
        "--reason",
        choices=[r.value for r in RevocationReason],
        default=RevocationReason.UNSPECIFIED.value,
    )
    revoke.set_defaults(handler=_revoke)


def _ready(platform: Platform) -> None:
    upgrade(platform.engine)
    platform.ca.initialize(now=utcnow())


def _init(_args: argparse.Namespace, platform: Platform) -> int:
    upgrade(platform.engine)
    created = platform.ca.initialize(now=utcnow())
    say("CA hierarchies created" if created else "CA hierarchies already exist")
    sys.stdout.write(platform.ca.root_pem())
    return 0


def _list(args: argparse.Namespace, platform: Platform) -> int:
    _ready(platform)
    wanted = CertificateFilter(
        station_id=args.station or None,
        status=CertificateStatus(args.status) if args.status else None,
    )
    query = certificate_query(wanted, now=utcnow())
    with Session(platform.engine) as session:
        rows = session.exec(query.limit(max(1, args.limit))).all()
    say(f"{'serial':<42} {'profile':<9} {'status':<8} {'not after':<26} subject")
    for row in rows:
        say(
            f"{row.serial_hex:<42} {row.profile:<9} {row.status:<8} "
            f"{row.not_after.isoformat():<26} {row.subject_cn}"
        )
    return 0


def _issue(args: argparse.Namespace, platform: Platform) -> int:
    _ready(platform)
    try:
        csr = args.csr.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the CSR {args.csr}: {exc}") from exc
    with Session(platform.engine) as session:
        try:
            issued = platform.ca.issue_station_certificate(
                session, csr, station_id=args.station, actor=CLI_ACTOR, now=utcnow()
            )
        except PkiError as exc:
            raise CliError(f"refused: {exc}") from exc
        session.commit()
    if args.out:
        args.out.write_text(issued.chain_pem)
        say(f"issued serial {issued.serial_hex}, chain written to {args.out}")
    else:
        sys.stdout.write(issued.chain_pem)
    return 0


def _revoke(args: argparse.Namespace, platform: Platform) -> int:
    _ready(platform)
    with Session(platform.engine) as session:
        try:
            platform.ca.revoke(
                session,
                args.serial,
                RevocationReason(args.reason),
                actor=CLI_ACTOR,
                now=utcnow(),
            )
        except (CAError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        session.commit()
    say(f"revoked {args.serial} ({args.reason})")
    return 0
