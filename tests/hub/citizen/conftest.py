"""The citizen page's tests run their own sample services (they write applications,
which the shared stack's other tests count) and one served hub per module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hub.demo import DemoSources
from hub.identity import development_issuer
from hub.settings import Settings
from tests.hub.stack import demo_stack
from tests.support.citizen import citizen_hub
from tests.support.intake import residents


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSources]:
    with demo_stack(tmp_path_factory.mktemp("citizen"), residents=200) as running:
        yield running


@pytest.fixture(scope="package")
def people(stack: DemoSources) -> list[tuple[str, str]]:
    return residents(stack.data_dir, 30)


@pytest.fixture(scope="module")
def hub(stack: DemoSources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with citizen_hub(stack, tmp_path_factory.mktemp("hub")) as served:
        yield served


@pytest.fixture
def url(hub: tuple[str, Settings]) -> str:
    return hub[0]


@pytest.fixture
def browser_client(url: str) -> Iterator[httpx.Client]:
    """A browser without JavaScript: cookies kept, redirects taken one by one by the test."""
    with httpx.Client(base_url=url, timeout=20) as client:
        yield client


@pytest.fixture
def officer(hub: tuple[str, Settings]):  # type: ignore[no-untyped-def]
    """`officer(query, number, **variables)`: the licensing officer's GraphQL, for the case."""
    url, settings = hub
    token = development_issuer(settings).issue(subject="petugas-warga", roles=["licensing_officer"],
                                               department="test")

    def run(query: str, number: str, **variables: object) -> dict:
        answer = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=20, headers={
            "Authorization": f"Bearer {token}", "X-Access-Purpose": "permit-verification", "X-Access-Case": number})
        body = answer.json()
        assert "errors" not in body, body
        return body["data"]

    return run
