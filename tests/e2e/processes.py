"""Running the ``chargeline`` command line as a real process: the command and free ports."""

from __future__ import annotations

import socket
import sys

CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
