"""The population registry source (SIAK-style): code tables, column mapping, SQL backend."""

from __future__ import annotations

from connectors.population.mapping import DEFAULT_MAPPING, PopulationMapping
from connectors.population.sql import SqlPopulationSource

__all__ = ["DEFAULT_MAPPING", "PopulationMapping", "SqlPopulationSource"]
