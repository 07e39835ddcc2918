"""What the schema's resolvers are handed at start-up: sources (behind their guards),
the policy, the ledger, the region, the calendar and the analytics stores."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.document_links import DocumentLinks
from auth.ledger import LedgerEntry, LedgerWriter, query_entries
from auth.policy import Policy
from auth.purposes import PurposeRegistry
from connectors import build_source
from connectors.plugins import source_plugins
from connectors.metrics import MetricsView
from connectors.resilience import guarded
from connectors.surveys import SurveyStore
from connectors.workdays import WorkCalendar
from hub.settings import ConfigError, Settings
from schema.access import AccessControl
from schema.analytics.service import MetricsService
from schema.analytics.surveys import Surveys
from schema.context import Environment
from schema.quota import Quota
from schema.cursors import CursorCodec
from schema.region import load_region
from schema.events import EventStream
from schema.notifications import NotificationPreferences
from schema.sources import Sources

SOURCE_IDS = ("population", "licensing", "complaints")


def build_sources(settings: Settings) -> Sources:
    """Each configured source's backend, wrapped in its timeout, retry, circuit and cache."""
    missing = [s for s in SOURCE_IDS if s not in settings.sources]
    if missing:
        raise ConfigError(f"no configuration for source(s) {', '.join(missing)}")
    built = {}
    for source_id in SOURCE_IDS:
        source_settings = settings.sources[source_id]
        try:
            backend = build_source(source_id, source_settings.connector_config())
        except ValueError as exc:
            raise ConfigError(f"source {source_id}: {exc}") from exc
        built[source_id] = guarded(backend, source_settings.resilience())
    extra = {}
    for source_id in source_plugins():  # an installed plug-in is configured, or the hub does not start
        if source_id not in settings.sources:
            raise ConfigError(f"no configuration for source {source_id} (from an installed plug-in: "
                              "configure it under `sources` or uninstall the package)")
        try:
            extra[source_id] = build_source(source_id, settings.sources[source_id].connector_config())
        except ValueError as exc:
            raise ConfigError(f"source {source_id}: {exc}") from exc
    return Sources(**built, extra=extra)


def build_environment(
    settings: Settings,
    *,
    sources: Sources,
    store: AsyncEngine,
    policy: Policy,
    purposes: PurposeRegistry,
    ledger_writer: LedgerWriter,
    cursor_key: bytes,
    quota: Quota | None = None,
    events: EventStream | None = None,
    notifications: NotificationPreferences | None = None,
) -> Environment:
    """The request-independent part of the context; `ledger_writer` (group commit:
    concurrent requests share one durable transaction, each gets its own entries)
    writes through `store`, and the caller closes it; `cursor_key` seals the listings'
    cursors (`hub.identity.cursor_key`)."""

    async def read_ledger(**filters: object) -> list[LedgerEntry]:
        return await query_entries(store, **filters)  # type: ignore[arg-type]

    return Environment(
        sources=sources,
        access=AccessControl(policy, purposes),
        ledger=ledger_writer.submit,  # starts the commit at once; the answer waits for it
        ledger_reader=read_ledger,
        region=load_region(settings.resolved_region_file),
        calendar=WorkCalendar(),
        max_page_size=settings.max_page_size,
        default_page_size=settings.default_page_size,
        trace_sources=settings.trace_sources,
        cursors=CursorCodec(cursor_key),
        document_links=DocumentLinks(cursor_key),  # its own key, derived (auth.document_links)
        events=events,
        notifications=notifications,
        surveys=Surveys(SurveyStore(store)),
        quota=quota,
        metrics=MetricsService(view=MetricsView(store), min_group_size=settings.report_min_group_size),
    )
