"""Development mode without an SMTP server writes mail to ``./var/outbox``, one .eml per message.

A first run (``make run``, then the README's tour) has no mail server; the links in its mails
must still reach the user. Production mode, or any SMTP host or port chosen, sends over SMTP.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.mail import Mail, Mailer
from app.main import create_app
from app.platform import build_platform
from app.settings import Settings
from tests.conftest import make_settings
from tests.eventually import eventually_sync


@pytest.fixture
def development(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url, mode="development")
    platform = build_platform(settings)
    with TestClient(create_app(platform=platform)) as client:
        yield client
    platform.close()


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def test_a_development_sign_up_mail_lands_in_the_outbox_and_its_link_verifies(
    development: TestClient, tmp_path: Path
) -> None:
    outbox = tmp_path / "var" / "outbox"
    signup = development.post(
        "/api/v1/app/signup", json={"email": "new@example.com", "password": "a long password 1"}
    )
    assert signup.status_code == 202
    [message] = eventually_sync(lambda: outbox_messages(outbox))
    assert message["To"] == "new@example.com"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = re.search(r"(http://\S+/app/verify-email\?token=\S+)", text.get_content())
    assert found is not None
    link = urlsplit(found.group(1))
    opened = development.get(f"{link.path}?{link.query}")
    assert opened.status_code == 200
    assert "new@example.com is verified" in opened.text
    assert list(outbox.glob("*.part")) == []


def test_production_or_a_chosen_smtp_server_sends_over_smtp(tmp_path: Path) -> None:
    production = Settings(mode="production", secret_key="x" * 40, data_dir=tmp_path)
    chosen_port = Settings(data_dir=tmp_path, smtp_port=1025)
    chosen_host = Settings(data_dir=tmp_path, smtp_host="mail.example.com")
    assert [s.resolved_mail_outbox for s in (production, chosen_port, chosen_host)] == [None] * 3
    assert Settings(data_dir=tmp_path).resolved_mail_outbox == tmp_path / "outbox"
    named = Settings(mode="production", secret_key="x" * 40, mail_outbox=tmp_path / "mail")
    assert named.resolved_mail_outbox == tmp_path / "mail"


def test_an_outbox_that_cannot_be_written_reports_the_mail_as_not_delivered(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the outbox should be")
    mailer = Mailer(Settings(data_dir=tmp_path, mail_outbox=blocker / "outbox"))
    assert mailer.send(Mail("a@example.com", "hello", "body")) is False
    assert mailer.send(Mail("a@example.com", "hello", "body")) is False
    mailer = Mailer(Settings(data_dir=tmp_path, mail_outbox=tmp_path / "outbox"))
    assert mailer.send(Mail("a/../b@example.com", "hello", "body")) is True
    [written] = (tmp_path / "outbox").iterdir()
    assert written.parent == tmp_path / "outbox" and "/" not in written.name
