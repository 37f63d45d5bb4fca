"""Outgoing e-mail over SMTP (RFC 5321), sent from a worker thread with ``smtplib``.

Host, port and sender come from the settings (``smtp_host``, ``smtp_port``, ``smtp_sender``).
Links in the messages point at ``settings.app_link_url``. Every message is
``multipart/alternative`` (RFC 2046 5.1.4): the text part as written, in 7bit (8bit if it is not
ASCII) so that links and tokens reach the reader unchanged, never quoted-printable-wrapped, and
an HTML part made from it (:func:`html_body`) with the links clickable. A failed delivery is
logged and reported as ``False``, never raised into the request that triggered it: the answer
a client gets must not depend on whether a mailbox exists (no account enumeration).
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape

from app.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0
_LINK = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.ASCII)


def html_body(text: str) -> str:
    """The HTML part for ``text``: one paragraph per line, a line that is a URL as a link."""
    paragraphs = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if _LINK.fullmatch(stripped):
            href = escape(stripped, quote=True)
            paragraphs.append(f'<p><a href="{href}">{href}</a></p>')
        else:
            paragraphs.append(f"<p>{escape(stripped)}</p>")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(paragraphs)
        + "\n</body></html>\n"
    )


def _transfer_encoding(text: str) -> str:
    return "7bit" if text.isascii() else "8bit"


@dataclass(frozen=True, slots=True)
class Mail:
    """One message to one recipient; ``body`` is its text, short lines, links on their own."""

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
        message.set_content(mail.body, cte=_transfer_encoding(mail.body))
        html = html_body(mail.body)
        message.add_alternative(html, subtype="html", cte=_transfer_encoding(html))
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
