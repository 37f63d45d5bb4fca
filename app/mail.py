"""Outgoing e-mail over SMTP (RFC 5321), sent from a worker thread with ``smtplib``.

Host, port and sender come from the settings (``smtp_host``, ``smtp_port``, ``smtp_sender``).
Links in the messages point at ``settings.app_link_url``. Every message is
``multipart/alternative`` (RFC 2046 5.1.4): the text part as written, in 7bit (8bit if it is not
ASCII) so that links and tokens reach the reader unchanged, never quoted-printable-wrapped, and
an HTML part made from it (:func:`html_body`) with the links clickable. Where the settings name an
outbox (development mode without an SMTP server of its own), each message is written there as an
``.eml`` file instead, and the log line says where. A failed delivery is
logged and reported as ``False``, never raised into the request that triggered it: the answer
a client gets must not depend on whether a mailbox exists (no account enumeration).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import smtplib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from pathlib import Path

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


def _file_safe(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]", "_", address)[:100]


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
        self.outbox = settings.resolved_mail_outbox

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
        """Deliver ``mail``; whether the server (or the outbox) accepted it."""
        if self.outbox is not None:
            return self._write(mail, self.outbox)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                smtp.send_message(self.message(mail))
        except (OSError, smtplib.SMTPException):
            log.exception("mail to %s could not be delivered", mail.to)
            return False
        return True

    def _write(self, mail: Mail, outbox: Path) -> bool:
        """Write ``mail`` to ``outbox`` as one ``.eml`` file, whole or not at all."""
        try:
            outbox.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=outbox, suffix=".part")
            temporary = Path(name)
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(self.message(mail).as_bytes())
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                target = outbox / f"{stamp}-{_file_safe(mail.to)}.eml"
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
        except OSError:
            log.exception("mail to %s could not be written to %s", mail.to, outbox)
            return False
        log.info("mail to %s written to %s", mail.to, target)
        return True

    async def send_async(self, mail: Mail) -> bool:
        return await asyncio.to_thread(self.send, mail)
