"""Unauthenticated mail requests are throttled per recipient and per client address, silently."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.platform import Platform
from tests.factories import make_user
from tests.owner_helpers import Inbox

PASSWORD = "a long enough password"


def test_a_burst_of_reset_requests_mails_one_recipient_at_most_five_times(
    client: TestClient, platform: Platform, inbox: Inbox
) -> None:
    make_user(platform, "eve@example.com")
    answers = [
        client.post("/api/v1/app/password-reset", json={"email": "eve@example.com"})
        for _ in range(40)
    ]
    unknown = client.post("/api/v1/app/password-reset", json={"email": "nobody@example.com"})
    assert {(a.status_code, a.text) for a in answers} == {(unknown.status_code, unknown.text)}
    assert unknown.status_code == 202
    assert len(inbox.to("eve@example.com")) == 5
    assert len(inbox.messages) == 5


def test_a_burst_of_sign_ups_from_one_address_sends_at_most_twenty_mails(
    client: TestClient, inbox: Inbox
) -> None:
    answers = [
        client.post(
            "/api/v1/app/signup", json={"email": f"new{n}@example.com", "password": PASSWORD}
        )
        for n in range(40)
    ]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    assert answers[0].status_code == 202
    assert len(inbox.messages) == 20
    assert {m["To"] for m in inbox.messages} == {f"new{n}@example.com" for n in range(20)}
