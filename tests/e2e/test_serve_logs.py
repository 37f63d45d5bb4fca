"""``chargeline serve`` as a real process: its log lines, and a clear word when a port is taken."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.processes import CLI, free_port
from tests.eventually import eventually_sync

PASSWORD = "station-password-0001"
STARTUP_S = 60.0


@dataclass
class Served:
    process: subprocess.Popen[str]
    api: str
    ocpp: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CHARGELINE_")}


def _serve_args(data_dir: Path, api: int, ocpp: int, tls: int) -> list[str]:
    return [
        *CLI,
        "serve",
        "--data-dir",
        str(data_dir),
        "--api-port",
        str(api),
        "--ocpp-port",
        str(ocpp),
        "--ocpp-tls-port",
        str(tls),
        "--ftp-port",
        str(free_port()),
    ]


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    subprocess.run(
        [*CLI, "stations", "add", "LOG-1", "--password", PASSWORD, "--data-dir", str(tmp_path)],
        env=_env(),
        check=True,
        capture_output=True,
    )
    api, ocpp = free_port(), free_port()
    extra: list[str] = request.param
    process = subprocess.Popen(
        [*_serve_args(tmp_path, api, ocpp, free_port()), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    served = Served(process, f"http://127.0.0.1:{api}", f"ws://127.0.0.1:{ocpp}/ocpp")

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        eventually_sync(
            lambda: "Chargeline is running" in served.output() or process.poll() is not None,
            timeout=STARTUP_S,
        )
        assert process.poll() is None, served.output()
        yield served
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _basic(station_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _visit(served: Served) -> None:
    """A request, a refused station, and a station that connects, boots and leaves."""
    answer = httpx.get(
        f"{served.api}/healthz?token=secret-in-query", headers={"X-Request-ID": "r-1"}
    )
    assert answer.headers["x-request-id"] == "r-1"
    with pytest.raises(InvalidStatus):
        connect(
            f"{served.ocpp}/LOG-1",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=_basic("LOG-1", "wrong-password-000000"),
        )
    with connect(
        f"{served.ocpp}/LOG-1",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        additional_headers=_basic("LOG-1", PASSWORD),
    ) as ws:
        boot = {"chargePointVendor": "Acme", "chargePointModel": "Log-11"}
        ws.send(json.dumps([2, "1", "BootNotification", boot]))
        reply = json.loads(ws.recv(timeout=10))
        assert reply[2]["status"] == "Accepted"


def _events(served: Served) -> list[dict[str, object]]:
    found = []
    for line in served.output().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


@pytest.mark.parametrize("served", [["--log-format", "json"]], indirect=True)
def test_json_logs_name_requests_and_station_events(served: Served) -> None:
    _visit(served)

    def logged() -> dict[str, dict[str, object]] | None:
        by_event = {str(e["event"]): e for e in _events(served)}
        wanted = {"request", "station.refused", "station.connected", "station.booted"}
        return by_event if wanted | {"station.disconnected"} <= set(by_event) else None

    by_event = eventually_sync(logged)
    request = next(
        e for e in _events(served) if e["event"] == "request" and e["path"] == "/healthz"
    )
    assert request["method"] == "GET"
    assert request["status"] == 200
    assert request["request_id"] == "r-1"
    assert isinstance(request["duration_ms"], float)
    refused = by_event["station.refused"]
    assert refused["station_id"] == "LOG-1"
    assert refused["status"] == 401
    assert refused["reason"] == "wrong station id or password"
    assert refused["remote"] == "127.0.0.1"
    connected = by_event["station.connected"]
    assert (connected["station_id"], connected["protocol"], connected["profile"]) == (
        "LOG-1",
        "1.6",
        1,
    )
    booted = by_event["station.booted"]
    assert (booted["vendor"], booted["model"], booted["status"]) == ("Acme", "Log-11", "Accepted")
    assert by_event["station.disconnected"]["station_id"] == "LOG-1"
    text = served.output()
    for secret in (PASSWORD, "wrong-password-000000", "secret-in-query"):
        assert secret not in text


@pytest.mark.parametrize("served", [[]], indirect=True)
def test_text_logs_are_readable_lines_by_default(served: Served) -> None:
    _visit(served)
    eventually_sync(lambda: "station.disconnected station_id=LOG-1" in served.output())
    text = served.output()
    assert "request method=GET path=/healthz status=200" in text
    assert "request_id=r-1" in text
    assert (
        'station.refused station_id=LOG-1 status=401 reason="wrong station id or password"' in text
    )
    assert "station.booted station_id=LOG-1 vendor=Acme model=Log-11" in text
    assert not any(line.startswith("{") for line in text.splitlines())


@pytest.mark.parametrize("flag", ["--api-port", "--ocpp-port", "--ocpp-tls-port"])
def test_a_busy_port_is_named_with_the_flag_that_changes_it(tmp_path: Path, flag: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = {name: free_port() for name in ("--api-port", "--ocpp-port", "--ocpp-tls-port")}
        ports[flag] = busy
        result = subprocess.run(
            _serve_args(
                tmp_path, ports["--api-port"], ports["--ocpp-port"], ports["--ocpp-tls-port"]
            ),
            capture_output=True,
            text=True,
            env=_env(),
            timeout=STARTUP_S,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        f"chargeline: port {busy} on 127.0.0.1 is already in use (another Chargeline running?); "
        f"choose another port with {flag} PORT"
    ) in result.stderr, result.stderr
