"""The README's tour, run as a new user runs it: every shell block, in order, against a real
``chargeline serve`` on embedded defaults.

Only the ports change (free ones instead of 8000/9000/9443) and ``make run`` becomes the
``chargeline serve`` it runs. The tour must end with a paired station, an invited guest and a
finished session that the owner sees, then a firmware rollout that brings the station to 1.1.0.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import free_port
from tests.eventually import eventually_sync

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORTS = {"8000": "--api-port", "9000": "--ocpp-port", "9443": "--ocpp-tls-port"}


def tour_script(ports: dict[str, int]) -> str:
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("## A first tour") : readme.index("## Settings")]
    script = "\n".join(re.findall(r"```sh\n(.*?)```", tour, re.S))
    for default, port in ports.items():
        script = script.replace(f"127.0.0.1:{default}", f"127.0.0.1:{port}")
    return "set -u\n" + script


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_the_readme_tour_ends_with_a_paired_station_an_invited_guest_and_a_finished_session(
    tmp_path: Path,
) -> None:
    ports = {default: free_port() for default in DEFAULT_PORTS}
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "chargeline").symlink_to(
        Path(sys.executable).with_name("chargeline")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}
    flags = [arg for default, flag in DEFAULT_PORTS.items() for arg in (flag, str(ports[default]))]
    server = subprocess.Popen(
        [".venv/bin/chargeline", "serve", *flags, "--ftp-port", str(free_port())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{ports['8000']}"

        def ready() -> bool:
            try:
                return httpx.get(f"{api}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        eventually_sync(ready, timeout=60, message="chargeline serve never became ready")
        tour = subprocess.run(
            ["bash", "-c", tour_script(ports)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert tour.returncode == 0, tour.stdout[-3000:] + tour.stderr[-3000:]
        out = tour.stdout
        assert '"role":"owner"' in out, out[-3000:]  # the owner paired with the typed codes
        assert "owner@example.com is verified" in out and "guest@example.com is verified" in out
        assert '"role":"guest"' in out  # the guest accepted the invitation
        sessions = json.loads(next(line for line in out.splitlines() if '"energy_wh"' in line))
        [session] = sessions["items"]
        assert session["station"] == "WB11-000001" and session["state"] == "ended"
        assert session["energy_wh"] > 0 and session["remote_start_id"] is not None
        assert "succeeded" in out  # the rollout's last progress
        station = out.strip().splitlines()[-1].split()
        assert station[0] == "WB11-000001" and "1.1.0" in station, out[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=30)
