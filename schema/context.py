"""What every resolver can reach: the request's principal, loaders, trace and policy
presenter, and the schema's environment (sources, region, calendar, limits, policy).
Built once per operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from auth.document_links import DocumentLinks
from auth.ledger import LedgerEntry, LedgerUnavailable
from auth.policy import RowAccess
from auth.principal import Principal
from connectors.workdays import WorkCalendar
from schema.access import PERSONAL_FIELDS, AccessControl, Presenter
from schema.analytics.service import MetricsService
from schema.analytics.surveys import Surveys
from schema.cases import Case
from schema.cursors import CursorCodec
from schema.events import EventStream
from schema.intake.catalogue import RequirementCatalogue
from schema.ledger_writes import LedgerWriter, LedgerWrites, drafts_of
from schema.loaders import Loaders
from schema.quota import Quota
from schema.region import Region
from schema.sources import Sources
from schema.trace import SourceTrace

if TYPE_CHECKING:
    from schema.live import LiveJoin, LiveLeader
    from schema.notifications import NotificationPreferences

JAKARTA = ZoneInfo("Asia/Jakarta")

#: Reads ledger entries (keyword filters of `auth.ledger.query_entries`).
LedgerReader = Callable[..., Awaitable[list[LedgerEntry]]]


def _today() -> date:
    return datetime.now(JAKARTA).date()


@dataclass(frozen=True, slots=True)
class Environment:
    """Start-up configuration the resolvers need; shared by all requests."""

    sources: Sources
    region: Region
    calendar: WorkCalendar
    access: AccessControl
    ledger: LedgerWriter | None = None  # None: personal data is never sent (fail closed)
    ledger_reader: LedgerReader | None = None
    max_page_size: int = 100
    default_page_size: int = 20
    trace_sources: bool = False  # `extensions.sources` on every response
    metrics: MetricsService | None = None  # None: service metrics are not configured
    surveys: Surveys | None = None  # None: the satisfaction survey is not configured
    quota: Quota | None = None  # limits on public operations; None: unlimited
    events: EventStream | None = None  # what subscriptions read; None: no live updates
    notifications: NotificationPreferences | None = None  # citizens' choice; None: not configured
    today: Callable[[], date] = _today
    # seals the listings' cursors; the hub passes one keyed alike on every instance
    cursors: CursorCodec = field(default_factory=CursorCodec.ephemeral)
    # signs the documents' download links (keyed alike on every instance); None: no links
    document_links: DocumentLinks | None = None
    requirements: RequirementCatalogue = field(default_factory=RequirementCatalogue)


@dataclass(slots=True)
class _Access:
    fields: frozenset[str]
    masked: frozenset[str]
    action: str = "read"
    detail: str | None = None


@dataclass(slots=True)
class Context:
    env: Environment
    principal: Principal
    loaders: Loaders
    trace: SourceTrace
    presenter: Presenter
    request_id: str
    purpose: str | None = None
    case: str | None = None  # X-Access-Case as given; what is in force is `checked_case`
    address: str | None = None  # the client's address (rate limits of public operations)
    selected: Mapping[str, frozenset[str]] = field(default_factory=dict)
    accessed: dict[tuple[str, str], _Access] = field(default_factory=dict)
    ledger_writes: LedgerWrites = field(default_factory=LedgerWrites)
    # the case the purpose in force is bound to, found in its source (`schema.cases`);
    # None: no case, nothing narrowed
    checked_case: Case | None = None
    # shared live results (`schema.live`): a member's way into its group, set by the
    # WebSocket transport; a group leader's group. None elsewhere.
    live_group: LiveJoin | None = None
    live_leader: LiveLeader | None = None
    _today: date | None = None
    _noted_since_start: bool = False  # a note came after the last batch was started
    _ledger_plans: dict[tuple[str, int], tuple[RowAccess, frozenset[str] | None, frozenset[str]]] = field(
        default_factory=dict
    )

    @classmethod
    def create(
        cls,
        env: Environment,
        principal: Principal,
        *,
        request_id: str,
        purpose: str | None = None,
        case: str | None = None,
        address: str | None = None,
    ) -> Context:
        trace = SourceTrace()
        return cls(
            env=env,
            principal=principal,
            loaders=Loaders.create(env.sources, trace),
            trace=trace,
            presenter=env.access.presenter(principal),
            request_id=request_id,
            purpose=purpose,
            case=case,
            address=address,
        )

    def today(self) -> date:
        """The request's date (Asia/Jakarta), read once: a page of 1,000 citizens asks
        for each one's age."""
        if self._today is None:
            self._today = self.env.today()
        return self._today

    def start_event(self, request_id: str) -> None:
        """A subscription's next delivery is being shaped: its ledger entries name it by
        `request_id`, and it is shown as of the day it is shaped, however long ago the
        run started (a shared run's leader started before some of its members:
        `schema.live`)."""
        self.request_id = request_id
        self._today = None

    def start_ledger_write(self) -> None:
        """Called by a root field once its records are shaped: starts writing their
        ledger entries when that is safe (see `schema.ledger_writes`)."""
        if self.ledger_writes.early and self.accessed:
            self._write_unwritten()

    async def finish_ledger(self) -> None:
        """Write what is not written yet and wait for every batch; raises on failure.
        When the caller waits itself (`ledger_writes.waited_by_caller`), only starts."""
        self._write_unwritten()
        if not self.ledger_writes.waited_by_caller:
            await self.ledger_writes.finish()

    async def finish_shared_ledger(self, readers: Sequence[Context], event_suffix: str) -> None:
        """A group leader's event: the records it noted, one entry each for every reader
        (its subject, its request id with `event_suffix`, its purpose and checked case),
        written in one batch; raises on failure, and writes nothing of its own."""
        if self.env.ledger is None:
            raise LedgerUnavailable("this hub has no access ledger")
        keys = list(self.accessed)
        drafts = [draft for reader in readers for draft in drafts_of(
            keys, self.accessed, principal=reader.principal, request_id=reader.request_id + event_suffix,
            purpose=reader.purpose, case=reader.checked_case.number if reader.checked_case is not None else None,
            writes=self.ledger_writes)]
        if drafts:
            await self.env.ledger(drafts)

    def _write_unwritten(self) -> None:
        if not self._noted_since_start:  # nothing new: a page's 1,000 notes need no second look
            return
        self._noted_since_start = False
        keys = self.ledger_writes.unwritten(self.accessed)
        case = self.checked_case.number if self.checked_case is not None else None  # never an unchecked one
        drafts = drafts_of(keys, self.accessed, principal=self.principal, request_id=self.request_id,
                           purpose=self.purpose, case=case, writes=self.ledger_writes)
        self.ledger_writes.start(self.env.ledger, drafts, self.accessed, keys)

    def release(self) -> None:
        """Drop what the request gathered (records, ledger notes, the HTTP objects) once
        its response is made. graphql-core's execution context refers to this context
        and is a reference cycle; the execution breaks it once the response is built
        (`FastPlainExecutionContext.build_response`), but not when execution raised or
        left work in the background. Then, without this, a 1,000-row page's objects would
        wait for the cyclic garbage collector (and be promoted to older generations)
        instead of being freed at once."""
        self.loaders.release()
        self.trace.release()
        self.accessed = {}
        self._noted_since_start = False
        self._ledger_plans = {}
        self.ledger_writes = LedgerWrites()

    def next_event(self) -> None:
        """A subscription's event was sent (its ledger entries written first): forget its
        records and notes, so the next event reads its records afresh and gets its own
        entries (the operation's document hash and name are kept)."""
        self.loaders.release()
        self.trace.release()
        self.accessed = {}
        self._noted_since_start = False
        self._ledger_plans = {}
        previous = self.ledger_writes
        self.ledger_writes = LedgerWrites(document_hash=previous.document_hash,
                                          operation_name=previous.operation_name)

    def record_access(self, type_name: str, key: str | None, row: RowAccess) -> None:
        """Note that a personal record was returned: the ledger gets one entry for it."""
        if key is None or type_name not in PERSONAL_FIELDS:
            return
        plan_key = (type_name, id(row))
        plan = self._ledger_plans.get(plan_key)
        if plan is None or plan[0] is not row:
            selected = self.selected.get(type_name, frozenset())
            personal = PERSONAL_FIELDS[type_name]
            shown = frozenset(f for f in selected if row.access(f).visible)
            masked = frozenset(f for f in shown if row.access(f).kind.name == "MASKED")
            worth = bool(shown if personal is None else shown & personal)
            plan = self._ledger_plans[plan_key] = (row, shown if worth else None, masked)
        if plan[1] is not None:
            self.note(type_name, key, plan[1], plan[2])

    def note(
        self,
        type_name: str,
        key: str,
        fields: set[str] | frozenset[str],
        masked: set[str] | frozenset[str] = frozenset(),
        *,
        action: str = "read",
        detail: str | None = None,
    ) -> None:
        """Add one personal record (read, or changed with `action="write"`) to the
        request's ledger batch; the same record twice is one entry."""
        record = (type_name, key)
        self._noted_since_start = True
        entry = self.accessed.get(record)
        if entry is None:  # the usual case: the sets are the request's shared plan sets
            self.accessed[record] = _Access(frozenset(fields), frozenset(masked), action, detail)
            return
        entry.fields |= fields
        entry.masked |= masked
        if action == "write":
            entry.action, entry.detail = action, detail
