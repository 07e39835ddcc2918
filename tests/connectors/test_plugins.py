"""Source plug-ins (connectors.plugins): discovered through `simpul.sources`, built by
`build_source` like the hub's own, refused when broken."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint
from typing import Protocol, runtime_checkable

import pytest

import connectors.plugins as plugins
from connectors import build_source
from connectors.plugins import PluginError, SourcePlugin
from connectors.protocols import Source


@runtime_checkable
class ParcelSource(Source, Protocol):
    async def parcels_by_nik(self, niks: Sequence[str]) -> dict[str, list[str]]: ...


class Parcels:
    source_id = "parcels"

    async def parcels_by_nik(self, niks: Sequence[str]) -> dict[str, list[str]]:
        return {}

    async def check(self) -> None: ...

    async def aclose(self) -> None: ...


class NotParcels:
    source_id = "parcels"

    async def check(self) -> None: ...

    async def aclose(self) -> None: ...


GOOD = SourcePlugin("parcels", ParcelSource, {"memory": (lambda sid, cfg: Parcels(), frozenset()),
                                              "broken": (lambda sid, cfg: NotParcels(), frozenset())})
BUILT_IN = SourcePlugin("population", ParcelSource, {"memory": (lambda sid, cfg: Parcels(), frozenset())})
NOT_A_PLUGIN = object()


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    def install(*targets: str) -> None:
        points = [EntryPoint(f"p{i}", f"{__name__}:{t}", plugins.ENTRY_POINT_GROUP) for i, t in enumerate(targets)]
        monkeypatch.setattr(plugins, "entry_points", lambda group: points if group == plugins.ENTRY_POINT_GROUP else [])
        plugins.source_plugins.cache_clear()

    yield install
    plugins.source_plugins.cache_clear()


def test_a_plugin_source_is_built_and_checked_against_its_protocol(installed) -> None:  # type: ignore[no-untyped-def]
    installed("GOOD")
    assert isinstance(build_source("parcels", {"backend": "memory"}), Parcels)
    with pytest.raises(ValueError, match="does not implement ParcelSource"):
        build_source("parcels", {"backend": "broken"})
    with pytest.raises(ValueError, match="unknown key"):
        build_source("parcels", {"backend": "memory", "url": "x"})
    with pytest.raises(ValueError, match="'sql' is not one of memory, broken"):
        build_source("parcels", {"backend": "sql"})


@pytest.mark.parametrize(("targets", "message"), [
    (("BUILT_IN",), "the hub's own source id 'population'"),
    (("NOT_A_PLUGIN",), "is not a connectors.plugins.SourcePlugin"),
    (("NO_SUCH_NAME",), "does not load"),
    (("GOOD", "GOOD"), "two plug-ins declare the source id 'parcels'"),
])
def test_a_broken_plugin_stops_the_start(installed, targets: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    installed(*targets)
    with pytest.raises(PluginError, match=message):
        plugins.source_plugins()


def test_without_plugins_only_the_hubs_sources_are_known(installed) -> None:  # type: ignore[no-untyped-def]
    installed()
    with pytest.raises(ValueError, match="expected one of population, licensing, complaints$"):
        build_source("parcels", {"backend": "memory"})
