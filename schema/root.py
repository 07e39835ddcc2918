"""The root types, assembled from the query and mutation classes of each area."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.access import PERSONAL_FIELDS
from schema.analytics.query import MetricsQuery
from schema.analytics.satisfaction import SatisfactionMutation, SatisfactionQuery
from schema.intake.fields import IntakeQuery
from schema.intake.mutations import IntakeMutation
from schema.ledger import LedgerQuery
from schema.mutations import CoreMutation
from schema.notifications import NotificationMutation, NotificationQuery
from schema.plugins import schema_plugins
from schema.queries import CoreQuery
from schema.subscriptions import Subscription
from schema.tracking import TrackingQuery
from schema.value_kinds import declare_kinds
from schema.verification import VerificationQuery

#: installed plug-ins (schema.plugins): their root fields join Query, their personal
#: fields and value kinds join the hub's declarations before any schema is built
PLUGINS = schema_plugins()
for _plugin in PLUGINS:
    PERSONAL_FIELDS.update(_plugin.personal_fields)
    declare_kinds(_plugin.value_kinds)

QUERY_PARTS: tuple[type, ...] = (CoreQuery, VerificationQuery, TrackingQuery, LedgerQuery,
                                    SatisfactionQuery, MetricsQuery, IntakeQuery, NotificationQuery,
                                    *(plugin.query for plugin in PLUGINS))
MUTATION_PARTS: tuple[type, ...] = (CoreMutation, SatisfactionMutation, IntakeMutation, NotificationMutation)

Query = merge_types("Query", QUERY_PARTS)
__all__ = ["Mutation", "Query", "Subscription"]

Mutation = merge_types("Mutation", MUTATION_PARTS) if MUTATION_PARTS else None
