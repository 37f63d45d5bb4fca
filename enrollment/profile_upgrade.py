"""Raising a station to security profile 3, and reading its answers: pure rules.

OCPP 1.6 Security Whitepaper 2.4 (ChangeConfiguration ``SecurityProfile``) and OCPP 2.0.1 A05 /
B09 (SetNetworkProfile, ``NetworkConfigurationPriority``, Reset). No I/O: the service in
``enrollment.field`` sends what these functions return.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from charging.commands import Command, Configure, Reset, ResetMode, SetNetworkProfile

PROFILE_3 = 3
NETWORK_PRIORITY = "OCPPCommCtrlr.NetworkConfigurationPriority"
MAX_SLOTS = 32
NETWORK_PROFILE_VERSIONS = frozenset({"2.0.1", "2.1"})


def gateway_url(*, public_url: str | None, ocpp_host: str, ocpp_tls_port: int) -> str | None:
    """The gateway's TLS endpoint as a station reaches it, without the station identity
    (``wss://host:port/ocpp``): the host of ``public_url`` when set, else ``ocpp_host``.
    None when no usable host or port is known (a wildcard address, port 0)."""
    if public_url:
        host = urlsplit(public_url).hostname or ""
    else:
        host = ocpp_host
        try:
            if ipaddress.ip_address(host).is_unspecified:
                host = ""
        except ValueError:
            pass  # a name, not an address
    if not host or not ocpp_tls_port:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"wss://{host}:{ocpp_tls_port}/ocpp"


def parse_priority(value: str) -> tuple[int, ...]:
    """A station's ``NetworkConfigurationPriority`` (a SequenceList such as ``"1,0"``).

    Raises:
        ValueError: not comma-separated slot numbers, a repeated slot, or more than
            ``MAX_SLOTS`` of them.
    """
    items = [item.strip() for item in value.split(",")] if value.strip() else []
    if len(items) > MAX_SLOTS:
        raise ValueError(f"more than {MAX_SLOTS} configuration slots")
    if not all(item.isascii() and item.isdigit() and len(item) <= 3 for item in items):
        raise ValueError(f"{value[:40]!r} is not a list of configuration slots")
    slots = tuple(int(item) for item in items)
    if len(set(slots)) != len(slots):
        raise ValueError(f"{value[:40]!r} repeats a configuration slot")
    return slots


def profile_upgrade_commands(
    ocpp_version: str | None, *, csms_url: str | None = None, priority: tuple[int, ...] = ()
) -> tuple[Command, ...]:
    """What raises a station to security profile 3 in its OCPP version.

    1.6: ChangeConfiguration ``SecurityProfile`` (Security Whitepaper 2.4). 2.0.1/2.1 (A05):
    SetNetworkProfile into the lowest slot from 1 up that ``priority`` (the station's current
    order) does not hold, that slot put first in ``NetworkConfigurationPriority``, then
    Reset(OnIdle). Empty when impossible: an unknown version, or 2.x without ``csms_url``.
    """
    version = (ocpp_version or "").removeprefix("ocpp")
    if version == "1.6":
        return (Configure("SecurityProfile", str(PROFILE_3)),)
    if version not in NETWORK_PROFILE_VERSIONS or csms_url is None:
        return ()
    slot = min(set(range(1, MAX_SLOTS + 2)) - set(priority))
    order = ",".join(str(s) for s in (slot, *priority))
    return (
        SetNetworkProfile(slot, csms_url, PROFILE_3),
        Configure(NETWORK_PRIORITY, order),
        Reset(ResetMode.ON_IDLE),
    )


def upgrade_step_accepted(command: Command, status: str) -> bool:
    """Whether the station's answer lets the upgrade go on: a scheduled reset (the station is
    busy) and a priority that needs a reboot (which follows) count as accepted."""
    if isinstance(command, Reset):
        return status in ("Accepted", "Scheduled")
    if isinstance(command, Configure) and command.key == NETWORK_PRIORITY:
        return status in ("Accepted", "RebootRequired")
    return status == "Accepted"


def root_is_listed(payload: dict[str, object], root_serial: int) -> bool:
    """Whether a GetInstalledCertificateIds answer (1.6 or 2.0.1) lists the root's serial."""
    hashes: list[object] = list(_as_list(payload.get("certificateHashData")))
    hashes += [
        entry.get("certificateHashData")
        for entry in _as_list(payload.get("certificateHashDataChain"))
        if isinstance(entry, dict)
    ]
    for item in hashes:
        if not isinstance(item, dict):
            continue
        try:
            if int(str(item.get("serialNumber", "")), 16) == root_serial:
                return True
        except ValueError:
            continue
    return False


def _as_list(value: object) -> Iterable[object]:
    return value if isinstance(value, list) else ()
