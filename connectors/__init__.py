"""Source connectors: what the hub needs from each source system, and the backends.

Public names are re-exported here; modules starting with ``_`` are internal.
"""

from __future__ import annotations

from connectors.complaints.rest import RestComplaintSource
from connectors.errors import (
    CircuitOpen,
    ConnectorError,
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.factory import build_source
from connectors.http import PoolState, SourceHttpClient
from connectors.licensing.rest import RestLicensingSource
from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.population.mapping import DEFAULT_MAPPING, PopulationMapping
from connectors.population.sql import SqlPopulationSource
from connectors.protocols import (
    ComplaintSource,
    LicensingSource,
    PooledSource,
    PopulationSource,
    Source,
)
from connectors.records import (
    APPLICATION_FINISHED,
    COMPLAINT_FINISHED,
    ApplicantKind,
    ApplicationFilter,
    ApplicationRecord,
    ApplicationStatus,
    Change,
    ChangeBatch,
    CitizenFilter,
    CitizenRecord,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintFilter,
    ComplaintRecord,
    ComplaintStatus,
    ComplaintVisibility,
    Disposition,
    FamilyRelationship,
    FollowUp,
    MaritalStatus,
    NewComplaint,
    Page,
    PageRequest,
    PermitType,
    Religion,
    RequestKind,
    Requirement,
    Sex,
    SourceHealth,
    StatusChange,
)

__all__ = [
    "APPLICATION_FINISHED",
    "COMPLAINT_FINISHED",
    "DEFAULT_MAPPING",
    "ApplicantKind",
    "ApplicationFilter",
    "ApplicationRecord",
    "ApplicationStatus",
    "Change",
    "ChangeBatch",
    "CircuitOpen",
    "CitizenFilter",
    "CitizenRecord",
    "ComplaintChannel",
    "ComplaintClassification",
    "ComplaintFilter",
    "ComplaintRecord",
    "ComplaintSource",
    "ComplaintStatus",
    "ComplaintVisibility",
    "ConnectorError",
    "Disposition",
    "FamilyRelationship",
    "FollowUp",
    "InMemoryComplaintSource",
    "InMemoryLicensingSource",
    "InMemoryPopulationSource",
    "LicensingSource",
    "MaritalStatus",
    "NewComplaint",
    "Page",
    "PageRequest",
    "PermitType",
    "PoolState",
    "PooledSource",
    "PopulationMapping",
    "PopulationSource",
    "RecordNotFound",
    "Religion",
    "RequestKind",
    "Requirement",
    "RestComplaintSource",
    "RestLicensingSource",
    "Sex",
    "Source",
    "SourceHealth",
    "SourceHttpClient",
    "SourceRejected",
    "SourceTimeout",
    "SourceUnavailable",
    "SqlPopulationSource",
    "StatusChange",
    "build_source",
]
