"""The root types, assembled from the query and mutation classes of each area."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.analytics.query import MetricsQuery
from schema.analytics.satisfaction import SatisfactionMutation, SatisfactionQuery
from schema.intake.fields import IntakeQuery
from schema.intake.mutations import IntakeMutation
from schema.ledger import LedgerQuery
from schema.mutations import CoreMutation
from schema.queries import CoreQuery
from schema.tracking import TrackingQuery
from schema.verification import VerificationQuery

QUERY_PARTS: tuple[type, ...] = (CoreQuery, VerificationQuery, TrackingQuery, LedgerQuery,
                                    SatisfactionQuery, MetricsQuery, IntakeQuery)
MUTATION_PARTS: tuple[type, ...] = (CoreMutation, SatisfactionMutation, IntakeMutation)

Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS) if MUTATION_PARTS else None
