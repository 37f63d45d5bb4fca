# ruff: noqa: T201 - a command line prints
"""``chargeline serve`` / ``edge`` / ``api`` / ``worker``: the process roles, run until
interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

from app.cli.admin import has_admin
from app.cli.common import CliError, add_common
from app.logs import configure_logging
from app.migrate import upgrade
from app.platform import Platform
from app.roles import (
    PortUnavailable,
    bound_port,
    running_api,
    running_edge,
    running_ftp,
    running_worker,
)

ROLES = (
    ("serve", "run the whole platform in one process"),
    ("edge", "run the OCPP gateway and charging core only"),
    ("api", "run the REST API only"),
    ("worker", "run the rollout worker only (reaches stations through Redis)"),
)


def add_role_commands(subparsers: Any) -> None:
    """Add ``serve``, ``edge``, ``api`` and ``worker`` to the ``chargeline`` parser."""
    for name, text in ROLES:
        role = subparsers.add_parser(name, help=text)
        add_common(role)
        _ports(role)
        role.set_defaults(handler=_serve, role=name, creates_database=True)


def _ports(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", dest="api_host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--api-port", type=int, help="REST API (default 8000)")
    parser.add_argument("--ocpp-port", type=int, help="OCPP profile 1, ws (default 9000)")
    parser.add_argument("--ocpp-tls-port", type=int, help="OCPP profiles 2-3, wss (default 9443)")
    parser.add_argument("--ftp-port", type=int, help="FTP firmware downloads (default 2121)")
    parser.add_argument(
        "--log-format", choices=["text", "json"], help="log lines as text (default) or JSON"
    )


def _serve(args: argparse.Namespace, platform: Platform) -> int:
    configure_logging(platform.settings.log_format)
    try:
        serve(
            platform,
            api=args.role in ("serve", "api"),
            edge=args.role in ("serve", "edge"),
            worker=args.role in ("serve", "worker"),
        )
    except PortUnavailable as exc:
        raise CliError(str(exc)) from None
    return 0


def banner(
    platform: Platform,
    *,
    api_port: int | None,
    ocpp_port: int | None,
    has_admin: bool,
    ocpp_tls_port: int | None = None,
    ftp_port: int | None = None,
) -> str:
    s = platform.settings
    api = s.public_url or f"http://{s.api_host}:{api_port}"
    lines = ["Chargeline is running"]
    if api_port is not None:
        lines += [
            f"  dashboard       {api}/",
            f"  REST API        {api}/api/v1",
            f"  API docs        {api}/docs",
            f"  health          {api}/healthz",
        ]
    if ocpp_port is not None:
        lines.append(f"  OCPP (ws)       ws://{s.ocpp_host}:{ocpp_port}/ocpp/{{station_id}}")
    if ocpp_tls_port is not None:
        lines.append(f"  OCPP (wss)      wss://{s.ocpp_host}:{ocpp_tls_port}/ocpp/{{station_id}}")
    if ftp_port is not None:
        lines.append(f"  FTP firmware    ftp://{s.ftp_public_host or s.ftp_host}:{ftp_port}")
    lines += [
        f"  database        {platform.engine.url.render_as_string()}",
        f"  data directory  {s.data_dir}",
    ]
    if not has_admin and api_port is not None:
        lines += [
            "",
            "No admin yet. In another terminal, create one (it prints a password):",
            "  .venv/bin/chargeline admin create-user --email admin@example.com --role admin",
            f"then log in to the dashboard at {api}/ with it, or get a token:",
            "  curl -s -d grant_type=password -d username=admin@example.com "
            f"-d password=PASSWORD {api}/oauth/token",
        ]
    return "\n".join(lines)


def settle_heap() -> None:
    """Move what start-up built (modules, schemas, the CA) out of the collector's way.

    An edge holding thousands of connections allocates steadily; every full collection would
    otherwise walk the ~100 MiB of long-lived start-up objects again. ``gc.freeze`` parks them
    in the permanent generation, and a larger first threshold collects young objects in fewer,
    bigger sweeps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


async def run(
    platform: Platform,
    *,
    api: bool = True,
    edge: bool = True,
    worker: bool | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the roles asked for; the rollout worker runs with ``serve`` (edge and API) unless
    ``worker`` says otherwise, and alone when neither edge nor API is asked for."""
    platform.settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, platform.engine)
    stop = stop or asyncio.Event()
    if worker is None:
        worker = edge and api
    if not edge and not api:
        async with running_worker(platform) as running_rollouts:
            print(
                "Chargeline rollout worker is running\n"
                f"  worker          {running_rollouts.holder}\n"
                f"  database        {platform.engine.url.render_as_string()}",
                flush=True,
            )
            await stop.wait()
        return
    if edge and api:
        async with (
            running_edge(platform) as running,
            running_api(platform) as server,
            running_ftp(platform) as ftp,
            _maybe_worker(platform, worker),
        ):
            settle_heap()
            print(
                banner(
                    platform,
                    api_port=bound_port(server),
                    ocpp_port=running.ocpp_port,
                    ocpp_tls_port=running.ocpp_tls_port,
                    has_admin=has_admin(platform),
                    ftp_port=ftp.address[1],
                ),
                flush=True,
            )
            await stop.wait()
    elif edge:
        async with running_edge(platform) as running:
            settle_heap()
            print(
                banner(
                    platform,
                    api_port=None,
                    ocpp_port=running.ocpp_port,
                    ocpp_tls_port=running.ocpp_tls_port,
                    has_admin=True,
                ),
                flush=True,
            )
            await stop.wait()
    else:
        async with running_api(platform) as server, running_ftp(platform) as ftp:
            print(
                banner(
                    platform,
                    api_port=bound_port(server),
                    ocpp_port=None,
                    has_admin=has_admin(platform),
                    ftp_port=ftp.address[1],
                ),
                flush=True,
            )
            await stop.wait()


@contextlib.asynccontextmanager
async def _maybe_worker(platform: Platform, wanted: bool) -> AsyncIterator[None]:
    if not wanted:
        yield
        return
    async with running_worker(platform):
        yield


def serve(
    platform: Platform, *, api: bool = True, edge: bool = True, worker: bool | None = None
) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(platform, api=api, edge=edge, worker=worker))
