"""A source outage never blocks an unrelated write: with every licensing call hanging
(a source that accepts connections and never answers, the wedge of issue 26), a
complaint and a survey answer for a service that is not a permit type are stored while
the licensing calls are still waiting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from connectors.memory import InMemoryLicensingSource
from connectors.resilience import GuardedLicensingSource, ResiliencePolicy, guarded
from hub.app import create_app
from hub.settings import Settings
from schema.sources import Sources
from tests.support.hardening import Headers
from tests.support.sample_world import IUMK, PBG, World


class HangingLicensing(InMemoryLicensingSource):
    """Every call waits until the test releases it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.released = threading.Event()
        self.waiting = 0

    async def _hang(self) -> None:
        self.waiting += 1
        try:
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        finally:
            self.waiting -= 1

    async def applications_by_number(self, numbers):  # type: ignore[no-untyped-def]
        await self._hang()
        return await super().applications_by_number(numbers)

    async def permit_types(self):  # type: ignore[no-untyped-def]
        await self._hang()
        return await super().permit_types()


@pytest.fixture
def licensing(world: World) -> HangingLicensing:
    return HangingLicensing(world.applications, permit_types=[PBG, IUMK])


@pytest.fixture
def hub(settings: Settings, world: World, licensing: HangingLicensing) -> Iterator[TestClient]:
    population, _, complaints = world.sources()
    slow = ResiliencePolicy(timeout=60.0, retries=0)  # the licensing calls stay in flight
    sources = Sources(guarded(population, slow), GuardedLicensingSource(licensing, slow),  # type: ignore[arg-type]
                      guarded(complaints, slow))  # type: ignore[arg-type]
    with TestClient(create_app(settings, sources=sources)) as client:
        try:
            yield client
        finally:
            licensing.released.set()


COMPLAINT = {
    "query": "mutation($i: ComplaintInput!) { submitComplaint(input: $i) { number } }",
    "variables": {"i": {"title": "Lampu jalan mati", "content": "Lampu jalan di depan rumah mati sejak kemarin",
                        "classification": "COMPLAINT", "category": "Infrastruktur",
                        "kelurahan": "1471081001"}},
}
SURVEY = {
    "query": "mutation($i: SatisfactionSurveyInput!) { submitSatisfactionSurvey(input: $i) { receiptNumber } }",
    "variables": {"i": {"service": "PENGADUAN", "scores": [4, 3, 3, 4, 3, 3, 4, 3, 3]}},
}


def test_writes_to_other_sources_and_the_hub_store_go_through_while_licensing_hangs(
    hub: TestClient, licensing: HangingLicensing, world: World, token: Callable[..., Headers]
) -> None:
    number = world.applications[0].number
    track = {"query": f'{{ trackApplication(number: "{number}") {{ status }} }}'}
    with ThreadPoolExecutor(max_workers=8) as pool:
        hanging = [pool.submit(hub.post, "/graphql", json=track) for _ in range(6)]
        for _ in range(200):
            if licensing.waiting >= 6:
                break
            threading.Event().wait(0.02)
        assert licensing.waiting >= 6

        complaint = hub.post("/graphql", json=COMPLAINT)
        survey = hub.post("/graphql", json=SURVEY)
        still_waiting = licensing.waiting
        licensing.released.set()
        answers = [f.result(timeout=30) for f in hanging]

    assert still_waiting >= 6, "the writes were answered while the licensing calls still hung"
    assert complaint.status_code == 200 and complaint.json()["data"]["submitComplaint"]["number"], complaint.text
    assert survey.status_code == 200 and survey.json()["data"]["submitSatisfactionSurvey"]["receiptNumber"]
    assert all(a.status_code == 200 for a in answers)
