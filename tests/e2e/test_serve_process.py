"""``chargeline serve`` as a user runs it: a real process, the banner, the first admin, a token."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.processes import CLI, free_port


def test_serve_prints_its_urls_and_the_admin_it_tells_about_gets_a_token(tmp_path: Path) -> None:
    api_port, ocpp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    process = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--data-dir",
            str(tmp_path),
            "--api-port",
            str(api_port),
            "--ocpp-port",
            str(ocpp_port),
            "--ocpp-tls-port",
            str(free_port()),
            "--ftp-port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while "create-user" not in banner and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            banner += line
        assert f"http://127.0.0.1:{api_port}/docs" in banner, banner
        assert f"ws://127.0.0.1:{ocpp_port}/ocpp/" in banner
        command = re.search(r"chargeline (admin create-user .*)", banner)
        assert command is not None
        created = subprocess.run(
            [*CLI, *command.group(1).split(), "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        password = created.stdout.split("password: ")[1].split()[0]
        base = f"http://127.0.0.1:{api_port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/docs").status_code == 200
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "password", "username": "admin@example.com", "password": password},
        )
        assert token.status_code == 200
        me = httpx.get(
            f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.json()["roles"] == ["admin"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
    assert (tmp_path / "chargeline.db").exists()
