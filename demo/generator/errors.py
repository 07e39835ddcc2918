"""Errors of the synthetic data generator.

    DemoDataError            (code)
      ├── RegionFileError    REGION_FILE_INVALID
      └── GeneratorInputError GENERATOR_INPUT_INVALID
"""

from __future__ import annotations


class DemoDataError(Exception):
    """Base of every error the generator raises on bad input; carries a code."""

    code = "DEMO_DATA_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RegionFileError(DemoDataError):
    code = "REGION_FILE_INVALID"


class GeneratorInputError(DemoDataError):
    code = "GENERATOR_INPUT_INVALID"
