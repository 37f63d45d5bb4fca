"""Password logins over real HTTP: brute force stays capped, the real owner is never locked out."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.audit import AuditEntry
from app.cli import main
from app.identity.tables import LoginFailure
from app.platform import Platform
from tests.factories import PASSWORD, make_user
from tests.live import LiveServer

PROBLEM = "https://chargeline.dev/problems/too-many-attempts"


def http_from(address: str) -> httpx.Client:
    """A client whose connections leave from ``address`` (any of 127.0.0.0/8)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def login(http: httpx.Client, url: str, email: str, password: str) -> httpx.Response:
    return http.post(
        f"{url}/oauth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


def audited(platform: Platform, action: str) -> list[AuditEntry]:
    with Session(platform.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def age_counters(platform: Platform, by: timedelta) -> None:
    with Session(platform.engine) as session:
        for row in session.exec(select(LoginFailure)):
            row.window_started_at -= by
            session.add(row)
        session.commit()


def test_wrong_passwords_from_one_address_never_lock_the_owner_out_elsewhere(
    platform: Platform, live_server: LiveServer
) -> None:
    make_user(platform, "victim@example.com")
    with http_from("127.0.0.2") as attacker, http_from("127.0.0.3") as owner:
        statuses = [
            login(attacker, live_server.url, "victim@example.com", f"guess-{n}").status_code
            for n in range(30)
        ]
        assert statuses == [400] * 5 + [429] * 25
        refused = login(attacker, live_server.url, "victim@example.com", PASSWORD)
        assert refused.status_code == 429 and refused.json()["type"] == PROBLEM
        assert int(refused.headers["Retry-After"]) > 0
        assert login(owner, live_server.url, "victim@example.com", PASSWORD).status_code == 200
    locked = audited(platform, "login.locked")
    assert [(e.object_id, e.source, e.outcome) for e in locked] == [
        ("victim@example.com", "127.0.0.2", "failure")
    ]


def test_an_account_under_attack_from_many_addresses_still_admits_its_owner(
    platform: Platform, live_server: LiveServer
) -> None:
    make_user(platform, "victim@example.com")
    for n in range(10, 15):  # 5 addresses x 4 guesses = the account's limit of 20
        with http_from(f"127.0.1.{n}") as attacker:
            for guess in range(4):
                answer = login(attacker, live_server.url, "victim@example.com", f"g{guess}")
                assert answer.status_code == 400
    with http_from("127.0.1.10") as attacker:  # a known attacker now gets no more guesses
        assert login(attacker, live_server.url, "victim@example.com", "g9").status_code == 429
    with http_from("127.0.1.99") as stranger:  # one try for a new address, then a wait
        assert login(stranger, live_server.url, "victim@example.com", "g9").status_code == 400
        assert login(stranger, live_server.url, "victim@example.com", "g8").status_code == 429
    with http_from("127.0.1.100") as owner:
        assert login(owner, live_server.url, "victim@example.com", PASSWORD).status_code == 200


def test_concurrent_wrong_logins_pass_the_check_at_most_the_limit_times(
    platform: Platform, live_server: LiveServer
) -> None:
    make_user(platform, "victim@example.com")
    barrier = threading.Barrier(30)
    statuses: list[int] = []

    def guess(n: int) -> None:
        with http_from("127.0.0.4") as http:
            barrier.wait()
            statuses.append(login(http, live_server.url, "victim@example.com", f"x{n}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [400] * 5 + [429] * 25
    assert len(audited(platform, "login.failure")) == 5
    assert len(audited(platform, "login.locked")) == 1
    with Session(platform.engine) as session:
        pair = session.get(LoginFailure, "login:victim@example.com|127.0.0.4")
        account = session.get(LoginFailure, "login:victim@example.com")
        assert pair is not None and pair.failures == 5
        assert account is not None and account.failures == 5


def test_failures_are_forgiven_when_their_window_has_passed(
    platform: Platform, live_server: LiveServer
) -> None:
    make_user(platform, "owner@example.com")
    with http_from("127.0.0.5") as http:
        for n in range(5):
            assert login(http, live_server.url, "owner@example.com", f"w{n}").status_code == 400
        assert login(http, live_server.url, "owner@example.com", PASSWORD).status_code == 429
        age_counters(platform, timedelta(seconds=301))
        assert login(http, live_server.url, "owner@example.com", PASSWORD).status_code == 200
        with Session(platform.engine) as session:
            keys = session.exec(select(col(LoginFailure.key))).all()
            assert "login:owner@example.com|127.0.0.5" not in keys


def test_an_admin_unlocks_an_account_and_the_unlock_is_audited(
    platform: Platform, live_server: LiveServer
) -> None:
    user = make_user(platform, "owner@example.com")
    make_user(platform, "admin@example.com", "admin")
    with http_from("127.0.0.6") as http:
        token = login(http, live_server.url, "admin@example.com", PASSWORD).json()["access_token"]
        for n in range(6):
            login(http, live_server.url, "owner@example.com", f"w{n}")
        assert login(http, live_server.url, "owner@example.com", PASSWORD).status_code == 429
        answer = http.post(
            f"{live_server.url}/api/v1/users/{user.id}/unlock",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200 and answer.json() == {"cleared": 2}
        assert login(http, live_server.url, "owner@example.com", PASSWORD).status_code == 200
        missing = http.post(
            f"{live_server.url}/api/v1/users/nobody/unlock",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert missing.status_code == 404
    [entry] = audited(platform, "login.unlocked")
    assert entry.object_id == "owner@example.com" and entry.actor.startswith("user:")
    with Session(platform.engine) as session:
        count = session.exec(select(func.count()).select_from(LoginFailure)).one()
        assert count == 1  # only the address key, partly forgiven, is left


def test_the_cli_unlocks_an_account_and_names_what_it_cannot_find(
    platform: Platform,
    client: TestClient,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_user(platform, "owner@example.com")
    form = {"grant_type": "password", "username": "owner@example.com", "password": "wrong-pass"}
    for _ in range(5):
        assert client.post("/oauth/token", data=form).status_code == 400
    right = {**form, "password": PASSWORD}
    assert client.post("/oauth/token", data=right).status_code == 429
    where = ["--data-dir", str(tmp_path / "cli"), "--database-url", database_url]
    assert main(["admin", "unlock", "user", "Owner@Example.com", *where]) == 0
    assert capsys.readouterr().out == (
        "unlocked user owner@example.com: 2 failure counter(s) cleared\n"
    )
    assert client.post("/oauth/token", data=right).status_code == 200
    assert main(["admin", "unlock", "station", "CP-NONE", *where]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "chargeline: no station 'CP-NONE'"
    [entry] = audited(platform, "login.unlocked")
    assert entry.actor == "cli"
