"""Outgoing e-mail over SMTP (RFC 5321), sent from a worker thread with ``smtplib``.

Host, port and sender come from the settings (``smtp_host``, ``smtp_port``, ``smtp_sender``).
Links in the messages point at ``settings.api_url``. A failed delivery is logged and reported
as ``False``, never raised into the request that triggered it: the answer a client gets must
not depend on whether a mailbox exists (no account enumeration).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from app.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Mail:
    """One plain-text message to one recipient."""

    to: str
    subject: str
    body: str


class Mailer:
    """Sends :class:`Mail` through the configured SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.sender = settings.smtp_sender

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain="chargeline")
        message.set_content(mail.body)
        return message

    def send(self, mail: Mail) -> bool:
        """Deliver ``mail``; whether the server accepted it."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                smtp.send_message(self.message(mail))
        except (OSError, smtplib.SMTPException):
            log.exception("mail to %s could not be delivered", mail.to)
            return False
        return True

    async def send_async(self, mail: Mail) -> bool:
        return await asyncio.to_thread(self.send, mail)
