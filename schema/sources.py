"""The set of sources the schema reads from, handed in by the hub at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.protocols import ComplaintSource, LicensingSource, PopulationSource, Source


@dataclass(frozen=True, slots=True)
class Sources:
    population: PopulationSource
    licensing: LicensingSource
    complaints: ComplaintSource
    # the sources of installed plug-ins, by source id (schema.plugins)
    extra: Mapping[str, Source] = field(default_factory=dict)

    def all(self) -> tuple[Source, ...]:
        return (self.population, self.licensing, self.complaints, *self.extra.values())
