"""GraphiQL in headless Chromium (Debian's `chromium`, driven by Playwright): the IDE
loads from the hub alone (every other request is blocked, and none may be attempted),
Docs shows each role its own schema once its token is in the headers editor, and a
query runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import create_app
from hub.identity import development_issuer
from hub.settings import Settings
from tests.support.browser import NO_CHROMIUM, chromium, has_chromium, serving
from tests.support.hardening import guarded_sources, memory_settings
from tests.support.sample_world import SIMPANG_BARU, build_world

pytestmark = pytest.mark.skipif(not has_chromium(), reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return memory_settings(tmp_path_factory.mktemp("hub"))


@pytest.fixture(scope="module")
def hub_url(settings: Settings) -> Iterator[str]:
    """The hub on a free 127.0.0.1 port, over the in-memory sample world."""
    with serving(create_app(settings, sources=guarded_sources(build_world()))) as url:
        yield url


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with chromium(sync_api) as launched:
        yield launched


class Offline:
    """Lets requests to the hub through and blocks (and remembers) every other one."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.blocked: list[str] = []
        self.allowed: list[str] = []

    def __call__(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            self.allowed.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture
def ide(browser, hub_url: str):  # type: ignore[no-untyped-def]
    """A fresh browser context on the GraphiQL page, with the network limited to the hub;
    on leaving, no other request may have been attempted and no script error raised."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offline = Offline(hub_url)
    context.route("**/*", offline)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(hub_url + "/graphql")
    page.wait_for_selector(".graphiql-container", timeout=30_000)
    yield page, offline
    assert offline.blocked == [], offline.blocked
    assert any("/graphiql-assets/graphiql.min.js" in url for url in offline.allowed)
    # the only console errors allowed are the hub's answers to the placeholder token
    assert [e for e in errors if "401" not in e] == [], errors
    context.close()


def token(settings: Settings, role: str, **claims: str) -> str:
    return development_issuer(settings).issue(subject=f"ide-{role}", roles=[role], department="test", **claims)


def set_headers(page, headers: str) -> None:  # type: ignore[no-untyped-def]
    """Type into GraphiQL's headers editor as a user would, then re-fetch the schema
    and wait for the hub's answer."""
    page.click(".graphiql-editor-tools button[data-name='headers']")
    page.click("section.graphiql-editor-tool[aria-label='Headers'] .graphiql-editor:not(.hidden) .CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(headers)
    page.wait_for_timeout(600)  # GraphiQL reads the editor after its debounced change
    with page.expect_response(lambda r: r.url.endswith("/graphql") and r.request.method == "POST"
                              and "IntrospectionQuery" in (r.request.post_data or "")) as answer:
        page.click("button[aria-label='Re-fetch GraphQL schema']")
    assert answer.value.status == 200, answer.value.text()[:300]


def query_fields_in_docs(page) -> set[str]:  # type: ignore[no-untyped-def]
    """Open Docs, then the Query type, and read the names of its fields."""
    if not page.locator(".graphiql-doc-explorer").is_visible():
        page.click("button[aria-label='Show Documentation Explorer']")
    while page.locator(".graphiql-doc-explorer-back").is_visible():  # back to the root types
        page.click(".graphiql-doc-explorer-back")
    page.wait_for_selector(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text('Query')",
                           timeout=15_000)
    page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text('Query')")
    page.wait_for_selector(".graphiql-doc-explorer-title:has-text('Query')", timeout=10_000)
    names = page.locator(".graphiql-doc-explorer a.graphiql-doc-explorer-field-name").all_inner_texts()
    return set(names)


def test_the_page_explains_where_tokens_come_from(ide) -> None:  # type: ignore[no-untyped-def]
    page, _ = ide
    text = page.locator(".graphiql-query-editor").inner_text()
    assert "hub demo" in text and "hub token --role ROLE" in text and "X-Access-Purpose" in text
    page.click(".graphiql-editor-tools button[data-name='headers']")
    headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)").inner_text()
    assert "PASTE-A-TOKEN-HERE" in headers and "X-Access-Purpose" in headers


def test_docs_show_each_role_its_own_schema_and_a_query_runs(ide, settings: Settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, _ = ide
    officer = token(settings, "kelurahan_officer", kelurahan=SIMPANG_BARU)
    set_headers(page, f'{{"Authorization": "Bearer {officer}", "X-Access-Purpose": "population-service"}}')
    officer_fields = query_fields_in_docs(page)
    assert {"citizens", "citizen", "family", "applications"} <= officer_fields, officer_fields
    assert "accessLedger" not in officer_fields
    page.screenshot(path=str(tmp_path / "graphiql-kelurahan-officer-docs.png"))

    page.click("button[aria-label='Execute query (Ctrl-Enter)']")
    sync_api.expect(page.locator(".graphiql-response")).to_contain_text("ide-kelurahan_officer", timeout=15_000)
    response = page.locator(".graphiql-response").inner_text()
    assert '"subject": "ide-kelurahan_officer"' in response, response

    auditor = token(settings, "auditor")
    set_headers(page, f'{{"Authorization": "Bearer {auditor}"}}')
    auditor_fields = query_fields_in_docs(page)
    assert "accessLedger" in auditor_fields, auditor_fields
    assert not {"citizens", "citizen", "family"} & auditor_fields, auditor_fields
    page.screenshot(path=str(tmp_path / "graphiql-auditor-docs.png"))
