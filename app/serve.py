"""``chargeline serve`` / ``edge`` / ``api``: the process roles, run until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import gc

from app.migrate import upgrade
from app.platform import Platform
from app.roles import bound_port, running_api, running_edge


def banner(
    platform: Platform,
    *,
    api_port: int | None,
    ocpp_port: int | None,
    has_admin: bool,
    ocpp_tls_port: int | None = None,
) -> str:
    s = platform.settings
    api = s.public_url or f"http://{s.api_host}:{api_port}"
    lines = ["Chargeline is running"]
    if api_port is not None:
        lines += [
            f"  REST API        {api}/api/v1",
            f"  API docs        {api}/docs",
            f"  health          {api}/healthz",
        ]
    if ocpp_port is not None:
        lines.append(f"  OCPP (ws)       ws://{s.ocpp_host}:{ocpp_port}/ocpp/{{station_id}}")
    if ocpp_tls_port is not None:
        lines.append(f"  OCPP (wss)      wss://{s.ocpp_host}:{ocpp_tls_port}/ocpp/{{station_id}}")
    lines += [
        f"  database        {platform.engine.url.render_as_string()}",
        f"  data directory  {s.data_dir}",
    ]
    if not has_admin and api_port is not None:
        lines += [
            "",
            "No admin yet. In another terminal, create one (it prints a password):",
            "  .venv/bin/chargeline admin create-user --email admin@example.com --role admin",
            "then get a token:",
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
    platform: Platform, *, api: bool = True, edge: bool = True, stop: asyncio.Event | None = None
) -> None:
    from app.cli import has_admin

    platform.settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, platform.engine)
    stop = stop or asyncio.Event()
    if edge and api:
        async with running_edge(platform) as running, running_api(platform) as server:
            settle_heap()
            print(
                banner(
                    platform,
                    api_port=bound_port(server),
                    ocpp_port=running.ocpp_port,
                    ocpp_tls_port=running.ocpp_tls_port,
                    has_admin=has_admin(platform),
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
        async with running_api(platform) as server:
            print(
                banner(
                    platform,
                    api_port=bound_port(server),
                    ocpp_port=None,
                    has_admin=has_admin(platform),
                ),
                flush=True,
            )
            await stop.wait()


def serve(platform: Platform, *, api: bool = True, edge: bool = True) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(platform, api=api, edge=edge))
