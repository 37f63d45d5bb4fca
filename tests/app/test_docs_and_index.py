"""What a new user opens first: the API docs (offline), ``/`` and ``/api/v1``, over real HTTP."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.e2e.http import TIMEOUT
from tests.live import LiveServer

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def _referenced(html: str) -> list[str]:
    """Every URL the page loads or links: src/href attributes and the openapi url in scripts."""
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html)
    return urls


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_every_asset_from_the_platform_itself(
    live_server: LiveServer, page: str
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        answer = http.get(page)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        urls = _referenced(answer.text)
        assert urls, answer.text
        base = live_server.url + page
        origin = urlsplit(live_server.url)
        assets = []
        for url in urls:
            absolute = urlsplit(urljoin(base, url))
            assert (absolute.scheme, absolute.netloc) == (origin.scheme, origin.netloc), url
            assets.append(absolute.path)
        suffixes = {path[path.rfind(".") :] for path in assets}
        assert ".js" in suffixes
        for path in assets:
            loaded = http.get(path)
            assert loaded.status_code == 200, path
            suffix = path[path.rfind(".") :]
            if suffix in CONTENT_TYPES:
                assert CONTENT_TYPES[suffix] in loaded.headers["content-type"], path
            elif path.endswith("openapi.json"):
                assert loaded.headers["content-type"] == "application/json"
                assert loaded.json()["info"]["title"] == "Chargeline"


def test_the_api_root_lists_its_resources_as_links_that_exist(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        answer = http.get("/api/v1")
        assert answer.status_code == 200
        links = answer.json()["_links"]
        assert links["self"] == {"href": "/api/v1"}
        assert {"stations", "transactions", "devices", "users", "docs", "health"} <= set(links)
        paths = set(http.get("/openapi.json").json()["paths"])
        for name, link in links.items():
            if name in ("self", "events", "docs", "redoc", "openapi"):
                continue
            assert link["href"] in paths, name
        # a link without a token leads to the resource's 401, not to a 404
        assert http.get(links["stations"]["href"]).status_code == 401


def test_the_home_page_links_the_docs_the_api_and_health(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT) as http:
        answer = http.get("/", follow_redirects=True)  # the dashboard's login page, logged out
        assert answer.status_code == 200 and str(answer.url).endswith("/login")
        assert answer.headers["content-type"].startswith("text/html")
        hrefs = re.findall(r'href="([^"]+)"', answer.text)
        assert {"/docs", "/redoc", "/api/v1", "/healthz"} <= set(hrefs)
        for href in hrefs:
            if not href.startswith("#"):
                assert http.get(href, follow_redirects=True).status_code == 200, href
