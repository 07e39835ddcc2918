"""Online applications (issue 24): permit requirements, `submitApplication`,
`completeApplication`, `markApplicationIncomplete`, an application's documents with
their signed download links, and the citizen's own cases (`me { applications
complaints }`)."""

from __future__ import annotations

from schema.intake.catalogue import RequirementCatalogue

__all__ = ["RequirementCatalogue"]
