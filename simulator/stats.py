"""Counters the simulated fleet keeps while it runs, and what each station reports at the end."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class FleetStats:
    """Live counters, shared by every station of a fleet (one event loop, no locks needed)."""

    connected: int = 0
    booted: int = 0
    sessions_started: int = 0
    sessions_finished: int = 0
    sessions_refused: int = 0
    meter_values: int = 0
    messages_sent: int = 0
    commands_answered: int = 0
    errors: int = 0
    stations_done: int = 0

    def line(self, stations: int) -> str:
        """``connected 3/3 booted 3 sessions 2 started 1 finished messages 40 errors 0``."""
        return (
            f"connected {self.connected}/{stations}  booted {self.booted}  "
            f"sessions {self.sessions_started} started {self.sessions_finished} finished"
            f"{f' {self.sessions_refused} refused' if self.sessions_refused else ''}  "
            f"messages {self.messages_sent}  commands {self.commands_answered}  "
            f"errors {self.errors}  done {self.stations_done}/{stations}"
        )


@dataclass(slots=True)
class StationReport:
    """How one station's run ended: ``ok`` unless ``error`` says why it stopped.

    ``refused`` when the CSMS said no: the handshake, the BootNotification, or the station's
    own sessions (``sessions_refused``, the last ``refusal`` named).
    """

    station_id: str
    ok: bool = False
    error: str | None = None
    refused: bool = False
    sessions_refused: int = 0
    refusal: str | None = None
    local_sessions: int = 0
    sessions_started: int = 0
    sessions_finished: int = 0
    energy_wh: float = 0.0
    warnings: list[str] = field(default_factory=list)
