"""Single sign-on: the whole authorization code + PKCE flow against a real provider on loopback.

The platform is served by uvicorn and a provider (``oidc-provider-mock``) runs beside it; an
``httpx`` client plays the browser, following every redirect and posting the provider's
"Authorize" form as its user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User
from pydantic import ValidationError
from sqlmodel import Session, select

from app.audit import AuditEntry
from app.dashboard.auth import COOKIE
from app.dashboard.sso import FLOW_COOKIE
from app.dashboard.tables import DashboardSession
from app.main import create_app
from app.platform import Platform, build_platform
from app.settings import Settings
from tests.conftest import make_settings
from tests.dashboard.oidc_provider import RunningProvider, running_provider
from tests.e2e.http import TIMEOUT
from tests.live import LiveServer

CLIENT_ID = "chargeline-dashboard"
ROLE_MAP = {
    "chargeline-admins": "admin",
    "chargeline-support": "support",
    "line-operators": "manufacturing",
}
USERS = [
    User(sub="ada", claims={"email": "ada@example.com", "groups": ["staff", "chargeline-admins"]}),
    User(sub="sam", claims={"email": "sam@example.com", "groups": ["chargeline-support"]}),
    User(sub="lin", claims={"email": "lin@example.com", "groups": ["line-operators"]}),
    User(sub="eve", claims={"email": "eve@example.com", "groups": ["staff"]}),
    # Keycloak puts realm roles in an object, Cognito its groups in a prefixed claim
    User(sub="kc", claims={"preferred_username": "kc-user", "realm_access": {"roles": ["x"]}}),
    User(sub="cg", claims={"email": "cg@example.com", "cognito:groups": ["chargeline-admins"]}),
]


@pytest.fixture
def provider() -> Iterator[RunningProvider]:
    with running_provider(USERS) as started:
        yield started


@pytest.fixture
def settings(tmp_path: Path, database_url: str, provider: RunningProvider) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret="client-secret-of-the-dashboard",
        dashboard_sso_name="Example ID",
        oidc_role_claims=("groups", "realm_access.roles", "cognito:groups"),
        oidc_role_map={**ROLE_MAP, "x": "support"},
    )


@pytest.fixture
def browser(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, follow_redirects=True, timeout=20) as client:
        yield client


def authorize_form(browser: httpx.Client, next_url: str = "/") -> httpx.Response:
    """Click "Sign in with ...": the provider's form asking which user to authorize."""
    form = browser.get("/login/sso", params={"next": next_url})
    assert form.status_code == 200 and "Authorize Client" in form.text, form.text
    return form


def sign_in(browser: httpx.Client, sub: str, next_url: str = "/") -> httpx.Response:
    form = authorize_form(browser, next_url)
    return browser.post(str(form.url), data={"sub": sub})


def callback_of(browser: httpx.Client, sub: str) -> str:
    """Go through the provider as ``sub`` but stop at the redirect back to the platform."""
    form = authorize_form(browser)
    answer = browser.post(str(form.url), data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sessions(platform: Platform) -> list[DashboardSession]:
    with Session(platform.engine) as session:
        return list(session.exec(select(DashboardSession)))


def logins(platform: Platform) -> list[AuditEntry]:
    with Session(platform.engine) as session:
        query = select(AuditEntry).where(AuditEntry.action == "dashboard.login")
        return list(session.exec(query.order_by(AuditEntry.id)))  # type: ignore[arg-type]


def test_the_login_page_offers_the_provider_by_name(browser: httpx.Client) -> None:
    page = browser.get("/login?next=/audit")
    assert 'href="/login/sso?next=/audit">Sign in with Example ID</a>' in page.text


def test_an_admin_group_signs_in_through_the_provider_into_the_overview(
    browser: httpx.Client, platform: Platform, provider: RunningProvider, live_server: LiveServer
) -> None:
    answer = sign_in(browser, "ada", next_url="/?tab=live")
    assert answer.status_code == 200, answer.text
    assert str(answer.url) == f"{live_server.url}/?tab=live"
    assert "<h1>Overview</h1>" in answer.text and "ada@example.com" in answer.text
    assert COOKIE in browser.cookies and FLOW_COOKIE not in browser.cookies
    [row] = sessions(platform)
    assert (row.kind, row.subject, row.name, row.roles) == (
        "oidc",
        f"{provider.url}#ada",
        "ada@example.com",
        "admin",
    )
    [entry] = logins(platform)
    assert (entry.actor, entry.outcome) == (f"oidc:{provider.url}#ada", "success")
    assert json.loads(entry.detail)["method"] == "oidc"


@pytest.mark.parametrize(
    ("sub", "roles", "name"),
    [
        ("sam", "support", "sam@example.com"),
        ("lin", "manufacturing", "lin@example.com"),
        ("kc", "support", "kc-user"),
        ("cg", "admin", "cg@example.com"),
    ],
)
def test_the_providers_groups_and_roles_map_to_dashboard_roles(
    browser: httpx.Client, platform: Platform, sub: str, roles: str, name: str
) -> None:
    form = authorize_form(browser)
    answer = browser.post(str(form.url), data={"sub": sub})
    # manufacturing lands on the factory pages, the others on the overview
    assert answer.history[-1].headers["location"] == ("/factory" if sub == "lin" else "/")
    [row] = sessions(platform)
    assert (row.roles, row.name) == (roles, name)


def test_an_account_without_a_mapped_group_gets_a_page_saying_so(
    browser: httpx.Client, platform: Platform
) -> None:
    answer = sign_in(browser, "eve")
    assert answer.status_code == 403
    assert "<h1>No dashboard role</h1>" in answer.text and "Example ID" in answer.text
    assert COOKIE not in browser.cookies and sessions(platform) == []
    [entry] = logins(platform)
    assert entry.outcome == "failure" and json.loads(entry.detail)["reason"] == "no dashboard role"


def test_a_callback_with_another_state_is_refused(
    browser: httpx.Client, platform: Platform
) -> None:
    callback = callback_of(browser, "ada")
    forged = httpx.URL(callback).copy_set_param("state", "attackers-state")
    answer = browser.get(str(forged))
    assert answer.status_code == 401 and "state does not match" in answer.text
    assert sessions(platform) == [] and logins(platform)[0].outcome == "failure"


def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(
    browser: httpx.Client, live_server: LiveServer, platform: Platform
) -> None:
    callback = callback_of(browser, "ada")
    with httpx.Client(
        follow_redirects=True, timeout=TIMEOUT
    ) as victim:  # login CSRF: no flow cookie
        answer = victim.get(callback)
    assert answer.status_code == 401 and "not started here or has expired" in answer.text
    assert sessions(platform) == []


def test_a_replayed_code_is_refused(browser: httpx.Client, platform: Platform) -> None:
    callback = callback_of(browser, "ada")
    flow = browser.cookies[FLOW_COOKIE]
    assert browser.get(callback).status_code == 200
    browser.cookies.set(FLOW_COOKIE, flow, path="/login/sso")  # a copied cookie, replayed
    browser.cookies.delete(COOKIE)
    again = browser.get(callback)
    assert again.status_code == 401 and "refused the sign-in code (invalid_grant)" in again.text
    assert len(sessions(platform)) == 1


def test_the_code_is_bound_to_the_pkce_verifier(
    browser: httpx.Client, provider: RunningProvider
) -> None:
    assert sign_in(browser, "ada").status_code == 200
    [asked] = provider.probe.authorizations
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["client_id"] == CLIENT_ID and asked["scope"] == "openid email profile"
    assert provider.probe.verified == 1  # the verifier sent at the token endpoint matched


def test_an_id_token_for_another_nonce_is_refused(
    browser: httpx.Client, platform: Platform, provider: RunningProvider
) -> None:
    provider.probe.nonce_override = "a nonce from the attacker's own sign-in"
    answer = sign_in(browser, "ada")
    assert answer.status_code == 401 and "does not belong to this sign-in (nonce)" in answer.text
    assert sessions(platform) == []


def test_an_id_token_from_another_issuer_is_refused(
    browser: httpx.Client, platform: Platform, provider: RunningProvider
) -> None:
    # the token endpoint signs with the host it is called by: the same server, another issuer
    provider.probe.token_host = provider.url.replace("http://localhost", "127.0.0.1")
    answer = sign_in(browser, "ada")
    assert answer.status_code == 401 and "comes from another issuer" in answer.text
    assert sessions(platform) == []


def test_a_refusal_by_the_provider_shows_on_the_login_page(
    browser: httpx.Client, platform: Platform
) -> None:
    form = authorize_form(browser)
    answer = browser.post(str(form.url), data={"action": "deny"})
    assert answer.status_code == 401 and "<h1>Log in to Chargeline</h1>" in answer.text
    assert "The sign-in provider refused the sign-in (access_denied)." in answer.text
    crafted = {"error": "<b>", "error_description": "Call +1 555 0100 to unlock your account"}
    hostile = browser.get("/login/sso/callback", params=crafted)
    assert hostile.status_code == 401 and "refused the sign-in (unknown error)" in hostile.text
    assert "<b>" not in hostile.text and "555 0100" not in hostile.text
    assert [entry.outcome for entry in logins(platform)] == ["failure", "failure"]


def test_an_offsite_next_ends_on_the_overview(
    browser: httpx.Client, live_server: LiveServer
) -> None:
    answer = sign_in(browser, "ada", next_url="//evil.example/")
    assert str(answer.url) == f"{live_server.url}/"


def test_a_forged_flow_cookie_is_refused(browser: httpx.Client, platform: Platform) -> None:
    callback = callback_of(browser, "ada")
    payload, _mac = browser.cookies[FLOW_COOKIE].split(".")
    browser.cookies.set(FLOW_COOKIE, f"{payload}.{'A' * 43}", path="/login/sso")
    answer = browser.get(callback)
    assert answer.status_code == 401 and "not started here" in answer.text
    assert sessions(platform) == []


def test_role_map_targets_must_be_dashboard_roles(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="may map only to admin, manufacturing, support"):
        Settings(oidc_role_map={"everyone": "owner"})


def test_role_settings_come_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARGELINE_OIDC_ROLE_MAP", '{"ops": "support"}')
    monkeypatch.setenv("CHARGELINE_OIDC_ROLE_CLAIMS", '["realm_access.roles"]')
    settings = Settings()
    assert settings.oidc_role_map == {"ops": "support"}
    assert settings.oidc_role_claims == ("realm_access.roles",)


def test_a_hostile_next_is_escaped_and_an_overlong_one_ends_on_the_overview(
    browser: httpx.Client, live_server: LiveServer
) -> None:
    page = browser.get("/login", params={"next": '/"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    assert "%3Cscript%3E" in page.text  # urlencoded in the "Sign in with ..." link
    answer = sign_in(browser, "ada", next_url="/?q=" + "x" * 5000)
    assert answer.status_code == 200 and str(answer.url) == f"{live_server.url}/"


def test_without_a_provider_there_is_no_button_and_no_flow(
    tmp_path: Path, database_url: str
) -> None:
    platform = build_platform(make_settings(tmp_path, database_url, oidc_client_id=CLIENT_ID))
    try:
        with TestClient(create_app(platform=platform)) as plain:  # a client id, no issuer
            assert "Sign in with" not in plain.get("/login").text
            for path in ("/login/sso", "/login/sso/callback?code=x&state=y"):
                answer = plain.get(path)
                assert answer.status_code == 404, path
                assert "<h1>Single sign-on is not configured</h1>" in answer.text
    finally:
        platform.close()
