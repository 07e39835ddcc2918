"""The GraphiQL page is served by the hub from its own package: the page names only
the hub's own origin, its Content Security Policy allows nothing else, the vendored
files are the pinned releases' (checksums), carry their licences and ship as package
data. (In a browser: tests/hub/test_graphiql_browser.py.)"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.graphiql.page import ASSETS_PATH, CONTENT_SECURITY_POLICY
from tests.support.hardening import guarded_sources, memory_settings
from tests.support.sample_world import build_world

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "hub" / "graphiql" / "assets"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = memory_settings(tmp_path_factory.mktemp("hub"))
    with TestClient(create_app(settings, sources=guarded_sources(build_world()))) as test_client:
        yield test_client


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [v for k, v in attrs if k in {"src", "href", "action", "srcset", "poster"} and v]
        if tag == "script":
            self._in_script = values.get("type") or ("src" if values.get("src") else "inline")

    def handle_data(self, data: str) -> None:
        if self._in_script == "inline" and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def the_page(client: TestClient):  # type: ignore[no-untyped-def]
    response = client.get("/graphql", headers=HTML)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response


def test_the_page_references_only_the_hubs_own_origin(client: TestClient) -> None:
    response = the_page(client)
    page = _References()
    page.feed(response.text)
    assert len(page.urls) >= 6, page.urls
    for url in page.urls:
        assert url.startswith("/") and not url.startswith("//") or url.startswith("data:"), url
    assert not re.search(r"https?://|//unpkg|//cdn|jsdelivr|esm\.sh", response.text), "a third-party URL"
    assert page.inline_scripts == 0  # settings travel as JSON data, so CSP needs no 'unsafe-inline' script


def test_its_content_security_policy_allows_the_hub_alone(client: TestClient) -> None:
    policy = the_page(client).headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    for sources in directives.values():
        assert "http" not in sources and "*" not in sources, sources


def test_every_asset_the_page_loads_is_served_by_the_hub(client: TestClient) -> None:
    page = _References()
    page.feed(the_page(client).text)
    assets = [url for url in page.urls if url.startswith(ASSETS_PATH + "/")]
    assert {Path(url.split("?")[0]).name for url in assets} == {
        "graphiql.min.css", "simpul-graphiql.css", "react.production.min.js", "react-dom.production.min.js",
        "graphiql.min.js", "simpul-graphiql.js",
    }
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        kind = "text/css" if url.split("?")[0].endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], (url, response.headers["content-type"])
        assert response.content == (ASSETS / Path(url.split("?")[0]).name).read_bytes()


def test_the_vendored_files_are_the_pinned_releases_with_their_licences() -> None:
    sums = dict(reversed(line.split("  ", 1)) for line in (ASSETS / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {"graphiql.min.js", "graphiql.min.css", "react.production.min.js",
                         "react-dom.production.min.js"}
    for name, digest in sums.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for package in ("graphiql", "react", "react-dom"):
        licence = (ASSETS / f"LICENSE.{package}.txt").read_text()
        assert licence.startswith("MIT License"), package
    readme = (ASSETS / "README.md").read_text()
    assert "graphiql 3.8.3" in readme and "react 18.3.1" in readme and "react-dom 18.3.1" in readme


def test_the_assets_are_declared_as_package_data() -> None:
    """Each file of the assets folder matches a package-data pattern of `hub.graphiql`
    (the folder is no package, so only that entry can bring it into the wheel)."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data.get("hub.graphiql", [])
    files = [p.relative_to(ASSETS.parent).as_posix() for p in ASSETS.iterdir() if p.is_file()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_the_api_still_answers_json_on_the_same_path(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
    assert response.status_code in (200, 406)  # a query is never answered with the IDE
    assert "graphiql" not in response.text.lower()
    answer = client.post("/graphql", json={"query": "{ __typename }"})
    assert answer.json() == {"data": {"__typename": "Query"}}
