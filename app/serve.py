"""``chargeline serve``: every process role in one process, on embedded defaults."""

from __future__ import annotations

import asyncio

import uvicorn

from app.main import create_app
from app.migrate import upgrade
from app.platform import Platform


def banner(platform: Platform, *, has_admin: bool) -> str:
    s = platform.settings
    lines = [
        "Chargeline is running",
        f"  REST API        {s.api_url}/api/v1",
        f"  API docs        {s.api_url}/docs",
        f"  health          {s.api_url}/healthz",
        f"  database        {platform.engine.url.render_as_string()}",
        f"  data directory  {s.data_dir}",
    ]
    if not has_admin:
        lines += [
            "",
            "No admin yet. In another terminal, create one (it prints a password):",
            "  .venv/bin/chargeline admin create-user --email admin@example.com --role admin",
            "then get a token:",
            f"  curl -s -d grant_type=password -d username=admin@example.com "
            f"-d password=PASSWORD {s.api_url}/oauth/token",
        ]
    return "\n".join(lines)


async def run_all(platform: Platform) -> None:
    from app.cli import has_admin

    app = create_app(platform=platform)
    config = uvicorn.Config(
        app, host=platform.settings.api_host, port=platform.settings.api_port, log_level="warning"
    )
    server = uvicorn.Server(config)
    startup = asyncio.create_task(server.serve())
    while not server.started and not startup.done():
        await asyncio.sleep(0.05)
    if server.started:
        print(banner(platform, has_admin=has_admin(platform)), flush=True)
    await startup


def serve(platform: Platform) -> None:
    platform.settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(platform.engine)
    asyncio.run(run_all(platform))
