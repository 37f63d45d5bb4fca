"""Logging in to the dashboard with a platform account, and what a session allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.dashboard.auth import COOKIE
from app.platform import Platform
from tests.dashboard.pages import csrf_of, log_in, post_login
from tests.factories import make_user


def test_a_visitor_is_sent_to_the_login_page_and_back_after_logging_in(
    platform: Platform, client: TestClient
) -> None:
    first = client.get("/?since=today", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/?since=today"
    make_user(platform, "admin@example.com", "admin")
    answer = post_login(client, "admin@example.com", next_url="/?since=today")
    assert answer.status_code == 303 and answer.headers["location"] == "/?since=today"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    overview = client.get("/")
    assert overview.status_code == 200 and "<h1>Overview</h1>" in overview.text
    assert "admin@example.com" in overview.text


def test_a_wrong_password_says_so_and_starts_no_session(
    platform: Platform, client: TestClient
) -> None:
    make_user(platform, "admin@example.com", "admin")
    answer = post_login(client, "admin@example.com", password="wrong password!")
    assert answer.status_code == 401
    assert "Wrong e-mail address or password." in answer.text
    assert COOKIE not in client.cookies
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_login_form_without_its_token_is_refused(platform: Platform, client: TestClient) -> None:
    make_user(platform, "admin@example.com", "admin")
    answer = client.post(
        "/login",
        data={"email": "admin@example.com", "password": "correct horse battery staple"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "expired" in answer.text
    assert COOKIE not in client.cookies


def test_an_owner_account_has_no_dashboard(platform: Platform, client: TestClient) -> None:
    make_user(platform, "owner@example.com", "owner")
    answer = post_login(client, "owner@example.com")
    assert answer.status_code == 403 and "no dashboard role" in answer.text
    assert COOKIE not in client.cookies


def test_an_offsite_next_goes_to_the_overview(platform: Platform, client: TestClient) -> None:
    make_user(platform, "admin@example.com", "admin")
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        answer = post_login(client, "admin@example.com", next_url=hostile)
        assert answer.status_code == 303 and answer.headers["location"] == "/", hostile


def test_logout_needs_the_csrf_token_and_ends_the_session(
    platform: Platform, client: TestClient
) -> None:
    csrf = log_in(platform, client, "admin")
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/").status_code == 200  # still logged in
    answer = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_account_is_logged_out_at_its_next_request(
    platform: Platform, client: TestClient
) -> None:
    from sqlmodel import Session, select

    from app.identity.tables import User

    log_in(platform, client, "support")
    with Session(platform.engine) as session:
        user = session.exec(select(User).where(User.email == "support@example.com")).one()
        user.disabled = True
        session.add(user)
        session.commit()
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_pages_forbid_inline_scripts_and_framing(platform: Platform, client: TestClient) -> None:
    log_in(platform, client, "admin")
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert csrf_of(page.text)


def test_the_cli_makes_a_support_account_that_logs_in_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main
    from app.main import create_app
    from app.platform import build_platform
    from tests.conftest import make_settings

    data_dir = tmp_path / "var"
    args = ["admin", "create-user", "--data-dir", str(data_dir), "--create"]
    assert main([*args, "--email", "support@example.com", "--role", "support"]) == 0
    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    settings = make_settings(tmp_path, f"sqlite:///{data_dir / 'chargeline.db'}")
    platform = build_platform(settings)
    try:
        with TestClient(create_app(platform=platform)) as client:
            answer = post_login(client, "support@example.com", password=password)
            assert answer.status_code == 303
            page = client.get("/")
            assert page.status_code == 200 and "(support)" in page.text
    finally:
        platform.close()
