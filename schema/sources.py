"""The set of sources the schema reads from, handed in by the hub at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.protocols import ComplaintSource, LicensingSource, PopulationSource


@dataclass(frozen=True, slots=True)
class Sources:
    population: PopulationSource
    licensing: LicensingSource
    complaints: ComplaintSource

    def all(self) -> tuple[PopulationSource, LicensingSource, ComplaintSource]:
        return (self.population, self.licensing, self.complaints)
