"""The sources as the hub reaches them, built from the hub's own configuration, for the
direct run (`--direct`) and for sampling keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import build_source
from connectors.metrics import MetricsView
from connectors.protocols import ComplaintSource, LicensingSource, PopulationSource
from hub.settings import Settings
from hub.store import create_store_engine


@dataclass(frozen=True, slots=True)
class DirectSources:
    population: PopulationSource
    licensing: LicensingSource
    complaints: ComplaintSource
    metrics: MetricsView | None = None  # the hub's metrics view, read from its store
    store: AsyncEngine | None = None

    @classmethod
    def build(cls, settings: Settings, *, with_store: bool = False) -> DirectSources:
        def config(source_id: str) -> dict:
            return settings.sources[source_id].connector_config()

        store = create_store_engine(settings.resolved_store_url) if with_store else None
        return cls(
            population=build_source("population", config("population")),
            licensing=build_source("licensing", config("licensing")),
            complaints=build_source("complaints", config("complaints")),
            metrics=MetricsView(store) if store is not None else None,
            store=store,
        )

    async def aclose(self) -> None:
        for source in (self.population, self.licensing, self.complaints):
            await source.aclose()
        if self.store is not None:
            await self.store.dispose()
