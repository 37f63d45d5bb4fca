"""The app's lists (cards, members) page like every other list and carry ``_links``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.platform import Platform
from tests.owner_helpers import login, make_device, pair


def test_the_cards_list_is_paged_with_links(platform: Platform, client: TestClient) -> None:
    owner = login(platform, client, "cards-owner@example.com")
    pair(client, owner, make_device(platform, "SN-PAGE-0001"))
    for token in ("PAGECARD1", "PAGECARD2", "PAGECARD3"):
        created = client.post("/api/v1/app/cards", json={"id_token": token}, headers=owner)
        assert created.status_code == 201, created.text

    first = client.get("/api/v1/app/cards?limit=2", headers=owner).json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (3, 2, 0, 2)
    assert first["_links"]["next"]["href"].endswith("/api/v1/app/cards?limit=2&offset=2")
    rest = client.get(first["_links"]["next"]["href"], headers=owner).json()
    seen = {c["id_token"] for c in first["items"] + rest["items"]}
    assert seen == {"PAGECARD1", "PAGECARD2", "PAGECARD3"}
    assert "next" not in rest["_links"] and "prev" in rest["_links"]


def test_the_members_list_is_paged_with_links(platform: Platform, client: TestClient) -> None:
    owner = login(platform, client, "members-owner@example.com")
    pair(client, owner, make_device(platform, "SN-PAGE-0002"))
    url = "/api/v1/app/stations/SN-PAGE-0002/members"

    page = client.get(f"{url}?limit=1", headers=owner).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 1, 0)
    assert [m["email"] for m in page["items"]] == ["members-owner@example.com"]
    assert page["_links"] == {"self": {"href": f"http://testserver{url}?limit=1"}}
