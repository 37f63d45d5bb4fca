"""``chargeline stations request-certificate STATION``: ask a connected station for a CSR.

The CLI holds no OCPP connection: the running platform does (in one process, or on whichever
edge node holds the station). So the command goes where an admin's would, through the REST API
(``POST /api/v1/stations/{id}/commands/trigger`` with ``SignChargingStationCertificate``),
authenticated as an OAuth2 client with the admin role (``chargeline admin create-client --role
admin``); it prints the station's answer. The CSR that follows is signed and installed by the
platform as in field enrollment.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

from app.cli.common import CliError, add_common
from app.platform import Platform

CLIENT_ID_ENV = "CHARGELINE_CLIENT_ID"
CLIENT_SECRET_ENV = "CHARGELINE_CLIENT_SECRET"


def add_request_certificate_command(stations_sub: Any) -> None:
    """Register the command under ``chargeline stations``."""
    request = stations_sub.add_parser(
        "request-certificate",
        help="ask a connected station for a CSR (TriggerMessage / ExtendedTriggerMessage)",
    )
    add_common(request)
    request.add_argument("station_id", help="the station's OCPP identity")
    request.add_argument(
        "--v2g", action="store_true", help="ask for the V2G certificate (2.x) instead"
    )
    request.add_argument("--api-url", help="the running platform's API (default: from settings)")
    request.add_argument(
        "--client-id", default=os.environ.get(CLIENT_ID_ENV), help=f"or ${CLIENT_ID_ENV}"
    )
    request.add_argument(
        "--client-secret",
        default=os.environ.get(CLIENT_SECRET_ENV),
        help=f"or ${CLIENT_SECRET_ENV}",
    )
    request.set_defaults(handler=request_certificate)


def request_certificate(args: argparse.Namespace, platform: Platform) -> int:
    if not args.client_id or not args.client_secret:
        raise CliError(
            "an admin OAuth2 client is needed: --client-id/--client-secret or "
            f"${CLIENT_ID_ENV}/${CLIENT_SECRET_ENV} (chargeline admin create-client --role admin)"
        )
    api = (args.api_url or platform.settings.api_url).rstrip("/")
    message = "SignV2GCertificate" if args.v2g else "SignChargingStationCertificate"
    try:
        with httpx.Client(base_url=api, timeout=60) as http:
            token = http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(args.client_id, args.client_secret),
            )
            if token.status_code != 200:
                raise CliError(f"the API refused the client: {_detail(token)}")
            answer = http.post(
                f"/api/v1/stations/{args.station_id}/commands/trigger",
                json={"message": message},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
    except httpx.TransportError as exc:
        raise CliError(
            f"no platform API answers at {api} ({exc}); start `chargeline serve` or pass --api-url"
        ) from exc
    if answer.status_code != 200:
        raise CliError(f"{args.station_id}: {_detail(answer)}")
    status = answer.json()["status"]
    sys.stdout.write(
        f"asked {args.station_id} for a CSR ({message}): the station answered {status}\n"
    )
    return 0 if status == "Accepted" else 1


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    text = body.get("detail") or body.get("error_description") or body.get("title") or ""
    return f"HTTP {response.status_code} {text}".strip()
