"""Helpers for the owners' tests: a real SMTP server, released devices, logged-in users."""

from __future__ import annotations

import email
import re
import socket
import time
from dataclasses import dataclass
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient
from sqlmodel import Session as DbSession
from sqlmodel import select

from app import audit
from app.api.factory import secret_keys
from app.platform import Platform
from common.clock import utcnow
from enrollment import repository, service
from enrollment.csv_import import Registration
from enrollment.identifiers import MacRange
from enrollment.qr import LabelKind, encode_payload
from enrollment.tables import DeviceRow
from tests.factories import PASSWORD, bearer, make_user, password_tokens

ACTOR = audit.Actor("test", "local")


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append(email.message_from_bytes(content))
        return "250 OK"

    def to(self, address: str, *, wait: float = 5.0) -> list[Message]:
        deadline = time.monotonic() + wait
        while True:
            found = [m for m in self.messages if m["To"] == address]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.02)

    def token(self, address: str, path: str) -> str:
        """The token of the last link to ``path`` mailed to ``address``."""
        for message in reversed(self.to(address)):
            match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", text_part(message))
            if match:
                return match.group(1)
        raise AssertionError(f"no {path} link mailed to {address}")


def text_part(message: Message) -> str:
    """The text/plain part of a mail, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            body = part.get_payload(decode=True)
            assert isinstance(body, bytes)
            return body.decode()
    raise AssertionError("the mail has no text part")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_smtp() -> tuple[Controller, Inbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def smtp_port(controller: Controller) -> int:
    port: int = controller.port
    return port


@dataclass(frozen=True)
class Labels:
    serial: str
    device: str
    packaging: str


def make_device(platform: Platform, serial: str, *, release: bool = True) -> Labels:
    """Register and enroll a device (and release it); its two label payloads."""
    keys = secret_keys(platform.settings)
    now = utcnow()
    with DbSession(platform.engine, expire_on_commit=False) as session:
        if repository.family_by_name(session, "wallbox") is None:
            repository.add_family(
                session,
                name="wallbox",
                vendor="ACME",
                model="W1",
                ocpp_version="1.6",
                default_channel="stable",
            )
            repository.add_mac_range(session, MacRange.parse("02:00:00:00:00:00-02:00:00:00:ff:ff"))
        registered = service.register_device(
            session,
            Registration(serial, "wallbox", "LOT-1"),
            keys=keys,
            actor=ACTOR,
            now=now,
            audit=audit.record,
        )
        assert registered.codes is not None
        service.mark_enrolled(session, serial, actor=ACTOR, now=now, audit=audit.record)
        if release:
            service.release_device(session, serial, actor=ACTOR, now=now, audit=audit.record)
        session.commit()
    return Labels(
        serial,
        encode_payload(LabelKind.DEVICE, serial, registered.codes.device),
        encode_payload(LabelKind.PACKAGING, serial, registered.codes.packaging),
    )


def device_state(platform: Platform, serial: str) -> str:
    with DbSession(platform.engine) as session:
        device = session.exec(select(DeviceRow).where(DeviceRow.serial == serial)).one()
        return device.state


def login(platform: Platform, client: TestClient, email_address: str) -> dict[str, str]:
    make_user(platform, email_address)
    return bearer(password_tokens(client, email_address, PASSWORD)["access_token"])


def pair(client: TestClient, headers: dict[str, str], labels: Labels) -> None:
    response = client.post(
        "/api/v1/app/pairings",
        json={"device_label": labels.device, "packaging_label": labels.packaging},
        headers=headers,
    )
    assert response.status_code == 201, response.text
