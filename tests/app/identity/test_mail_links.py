"""The links in our mails open pages that do what the mail says, taken from the real SMTP server."""

from __future__ import annotations

import dataclasses
import re
from email.message import Message
from pathlib import Path

from fastapi.testclient import TestClient

from app.api.app_common import link
from app.platform import Platform
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user, password_tokens
from tests.owner_helpers import Inbox, login, make_device, pair, text_part


def mailed_link(inbox: Inbox, address: str, path: str) -> str:
    message = inbox.to(address)[-1]
    found = re.search(r"^(\S+" + re.escape(path) + r"\?token=\S+)\s*$", text_part(message), re.M)
    assert found, text_part(message)
    return found.group(1)


def assert_plain_and_html(message: Message, token: str) -> None:
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part for part in message.walk()}
    assert parts["text/plain"]["Content-Transfer-Encoding"] == "7bit"
    text = text_part(message)
    assert token in text.splitlines() and max(len(line) for line in text.splitlines()) < 120
    html = parts["text/html"].get_payload(decode=True)
    assert isinstance(html, bytes) and b'<a href="' in html and token.encode() in html


def relative(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_verification_link_verifies_the_address(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    signup = client.post(
        "/api/v1/app/signup", json={"email": "new@example.com", "password": "a long password 1"}
    )
    assert signup.status_code == 202
    url = mailed_link(inbox, "new@example.com", "/app/verify-email")
    assert url.startswith(f"{platform.settings.api_url}/app/verify-email?token=")
    assert_plain_and_html(inbox.to("new@example.com")[-1], url.rsplit("=", 1)[1])
    opened = client.get(relative(url))
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html")
    assert "new@example.com is verified" in opened.text
    tokens = password_tokens(client, "new@example.com", "a long password 1")
    me = client.get("/api/v1/app/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["email_verified"] is True
    again = client.get(relative(url))
    assert again.status_code == 400 and "verification link is used" in again.text


def test_the_reset_link_opens_a_form_that_sets_the_password(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    make_user(platform, "owner@example.com")
    assert (
        client.post("/api/v1/app/password-reset", json={"email": "owner@example.com"}).status_code
        == 202
    )
    url = mailed_link(inbox, "owner@example.com", "/app/reset-password")
    token = url.rsplit("=", 1)[1]
    assert_plain_and_html(inbox.to("owner@example.com")[-1], token)
    form = client.get(relative(url))
    assert form.status_code == 200 and f"value='{token}'" in form.text
    assert "method='post'" in form.text and "<script" not in form.text
    done = client.post(
        "/app/reset-password", data={"token": token, "password": "a brand new password 2"}
    )
    assert done.status_code == 200 and "Your new password is set" in done.text
    assert password_tokens(client, "owner@example.com", "a brand new password 2")["access_token"]
    old = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "owner@example.com", "password": PASSWORD},
    )
    assert old.status_code == 400


def test_the_invitation_link_lets_the_invitee_log_in_and_accept(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    labels = make_device(platform, "SN-LINK-0001")
    owner = login(platform, client, "owner@example.com")
    pair(client, owner, labels)
    guest = make_user(platform, "guest@example.com")
    invited = client.post(
        "/api/v1/app/stations/SN-LINK-0001/invitations",
        json={"email": "guest@example.com", "role": "guest"},
        headers=owner,
    )
    assert invited.status_code == 201, invited.text
    url = mailed_link(inbox, "guest@example.com", "/app/invitations/accept")
    token = url.rsplit("=", 1)[1]
    assert_plain_and_html(inbox.to("guest@example.com")[-1], token)
    form = client.get(relative(url))
    assert form.status_code == 200 and "Log in and accept" in form.text
    wrong = client.post(
        "/app/invitations/accept",
        data={"token": token, "email": "guest@example.com", "password": "not it"},
    )
    assert wrong.status_code == 400 and "wrong e-mail address or password" in wrong.text
    accepted = client.post(
        "/app/invitations/accept",
        data={"token": token, "email": "guest@example.com", "password": PASSWORD},
    )
    assert accepted.status_code == 200, accepted.text
    assert "You are now a guest of station SN-LINK-0001" in accepted.text
    members = client.get("/api/v1/app/stations/SN-LINK-0001/members", headers=owner).json()
    assert {(m["user_id"], m["role"]) for m in members["items"]} >= {(guest.id, "guest")}


def test_what_the_pages_show_is_escaped(client: TestClient) -> None:
    hostile = "<script>alert(1)</script>"
    refused = client.get("/app/verify-email", params={"token": hostile})
    assert refused.status_code == 400 and "<script>" not in refused.text
    for path in ("/app/reset-password", "/app/invitations/accept"):
        answer = client.get(path, params={"token": hostile})
        assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text, path


def test_the_link_base_is_configurable_for_deep_links(tmp_path: Path, platform: Platform) -> None:
    settings = make_settings(tmp_path, "sqlite://", app_link_base="chargeline://open/")
    deep = dataclasses.replace(platform, settings=settings)
    assert link(deep, "/app/verify-email", "T0K") == "chargeline://open/app/verify-email?token=T0K"
    assert link(platform, "/app/verify-email", "T0K").startswith(platform.settings.api_url)
