"""The SIAK-style population database: the `BIODATA_WNI` table and its bulk load."""

from __future__ import annotations

from demo.population.load import PopulationLoadError, load_population
from demo.population.schema import biodata_wni, metadata

__all__ = ["PopulationLoadError", "biodata_wni", "load_population", "metadata"]
