"""Settings: the one place that reads the environment and the configuration file.

Precedence, highest first: keyword overrides (the CLI), environment variables
(`SIMPUL_` prefix, `__` between nested names: `SIMPUL_SOURCES__LICENSING__URL`), the
TOML file given with `--config`, then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from sqlalchemy.engine import make_url

from connectors.plugins import source_plugins
from connectors.resilience import ResiliencePolicy
from hub.citizen.settings import CitizenPageSettings, check_allowed
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


CHECKPOINT_FILE = "ledger-head-checkpoints.jsonl"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "simpul"


class SourceSettings(BaseModel):
    # sql, rest or memory for the hub's sources; a plug-in's source names its own
    # (connectors.factory checks the name against the source's backends)
    backend: str
    url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=5.0, gt=0, le=120)
    mapping: dict[str, Any] = Field(default_factory=dict)
    # further keys for a plug-in's backend (connectors.plugins), passed as they are
    options: dict[str, Any] = Field(default_factory=dict)
    # resilience (issue 5): see connectors.resilience.ResiliencePolicy
    deadline: float | None = Field(default=None, gt=0, le=120)  # a read with its retries; default: timeout
    retries: int = Field(default=2, ge=0, le=10)  # reads only
    backoff: float = Field(default=0.05, ge=0, le=10)
    write_retries: int = Field(default=2, ge=0, le=10)  # always with the same idempotency key
    write_backoff: float = Field(default=0.5, ge=0, le=30)
    circuit_threshold: int = Field(default=5, ge=1, le=1000)
    circuit_cooldown: float = Field(default=30.0, gt=0, le=3600)
    cache_ttl: float = Field(default=300.0, ge=0, le=86400)  # stale answers served when down; 0: off
    cache_size: int = Field(default=10_000, ge=0, le=1_000_000)  # records held, not entries

    def resilience(self) -> ResiliencePolicy:
        return ResiliencePolicy(
            timeout=self.timeout,
            deadline=self.deadline,
            retries=self.retries,
            backoff=self.backoff,
            write_retries=self.write_retries,
            write_backoff=self.write_backoff,
            circuit_threshold=self.circuit_threshold,
            circuit_cooldown=self.circuit_cooldown,
            cache_ttl=self.cache_ttl,
            cache_size=self.cache_size,
        )

    def connector_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"backend": self.backend, "timeout": self.timeout}
        if self.url is not None:
            config["url"] = self.url
        if self.api_key is not None:
            config["api_key"] = self.api_key.get_secret_value()
        if self.mapping:
            config["mapping"] = self.mapping
        for key, value in self.options.items():
            if key in config:
                raise ConfigError(f"options.{key}: set `{key}` as a key of the source, not an option")
            config[key] = value
        return config


class LimitSettings(BaseModel):
    """`requests` per `window_seconds` for one caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(ge=1)
    window_seconds: float = Field(gt=0, le=86400)


def _limit(requests: int, window_seconds: float) -> Any:
    return Field(default_factory=lambda: LimitSettings(requests=requests, window_seconds=window_seconds))


class PublicLimitSettings(BaseModel):
    """Limits on the public entry points, on top of the per-client limit of `/graphql`.
    A caller is its token's subject, else its address."""

    model_config = ConfigDict(extra="forbid")

    page: LimitSettings = _limit(60, 60)  # GET / (the transparency page)
    survey_form: LimitSettings = _limit(30, 60)  # GET and POST /survei
    tracking: LimitSettings = _limit(60, 60)  # each trackApplication / trackComplaint look-up
    submit_complaint: LimitSettings = _limit(10, 3600)
    submit_survey: LimitSettings = _limit(20, 3600)  # submitSatisfactionSurvey, the form's too
    # survey answers without an application number, per caller and local day
    anonymous_surveys_per_day: int = Field(default=10, ge=1, le=100_000)
    token: LimitSettings = _limit(30, 60)  # every POST /oauth/token, per address
    source_hook: LimitSettings = _limit(120, 60)  # every POST /hooks/sources/{source}, per address
    # failed client authentications at /oauth/token; past either limit a request is
    # refused before its secret is hashed (scrypt is CPU work)
    failed_auth_per_client: LimitSettings = _limit(10, 300)
    failed_auth_per_address: LimitSettings = _limit(20, 300)


class RateLimitSettings(BaseModel):
    """Requests per window on `/graphql` (each operation over a subscription socket
    counts as one) and on `/documents` downloads, per client (a service account or user,
    else the client address) by its role, and optionally per role for all its clients
    together; and the public entry points' own limits (`public`). In-process unless the
    hub's `redis_url` is set (then shared)."""

    enabled: bool = True
    window_seconds: float = Field(default=60.0, gt=0, le=86400)
    per_client: dict[str, int] = Field(default_factory=lambda: {"anonymous": 300, "default": 3000})
    per_role: dict[str, int] = Field(default_factory=dict)
    public: PublicLimitSettings = Field(default_factory=PublicLimitSettings)
    key_prefix: str = "simpul:ratelimit:"

    @field_validator("per_client", "per_role")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v < 1}
        if bad:
            raise ValueError(f"limits must be at least 1 request per window: {bad}")
        return value


class IssuerSettings(BaseModel):
    """Who signs the tokens the hub accepts.

    The hub always signs its service accounts' tokens itself (`hub_issuer`, keys in the
    data directory). `development` also lets `hub token` and `hub demo` mint tokens for
    any role: for demos and tests only. An external identity provider (Keycloak-style)
    is trusted through `external_issuer` and its `jwks_uri`.
    """

    development: bool = False
    hub_issuer: str = "simpul-hub"
    audience: str = "simpul"
    external_issuer: str | None = None
    jwks_uri: str | None = None
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    claims: dict[str, str] = Field(default_factory=dict)  # claim-name overrides


class LedgerCheckpointSettings(BaseModel):
    """Signed checkpoints of the access ledger's head, appended to a file outside the
    store (see auth.ledger.anchors): every `interval_seconds`, after every `every_entries`
    entries this instance commits, and at shutdown (0 turns either trigger off). `file`
    defaults to `ledger-head-checkpoints.jsonl` beside the SQLite store, or in the data
    directory when the store is elsewhere (PostgreSQL). A line is about 700 bytes and
    written only when the head moved: at most 1,440 a day at the default interval."""

    file: Path | None = None
    interval_seconds: float = Field(default=60.0, ge=0, le=86400)
    every_entries: int = Field(default=100_000, ge=0, le=10_000_000)


#: What `redis_url` does, exactly (kept true by tests/hub/test_redis_outage.py).
REDIS_URL_DESCRIPTION = (
    "Redis shared by the hub's instances (unset: everything in-process, for one instance). "
    "It carries four things: the rate-limit counters, so that a limit holds across instances "
    "(while Redis is unreachable each instance counts on its own); the revocation channel, "
    "on which `hub client revoke` tells every instance to re-read the revoked clients at once "
    "(without it they do within `revocation_poll_seconds`); and the event stream "
    "(`events.stream_key`), on which the instance reading the sources' change feeds passes each "
    "event to the others: its id, source, kind, case number, status and time, never a person's "
    "data (while Redis is unreachable each instance reads the events from the hub store); "
    "and the feeds' wake-up channel (`events.wake_channel`), on which an instance that receives a "
    "source's webhook tells the instance reading the feeds to read that source now (without it, "
    "or while Redis is unreachable, that instance reads it within `events.poll_seconds`). "
    "Source answers are not cached in "
    "Redis: each instance keeps its own recent answers and the last good copy of reference data. "
    "An outage is logged once when it begins and once when it ends, and counted in "
    "`simpul_redis_errors_total{use}` and `simpul_redis_up{use}`."
)


class PersistedQuerySettings(BaseModel):
    """Persisted operations (`hub operations push`) and automatic persisted queries (APQ,
    the `persistedQuery` extension; see hub.persisted). APQ documents are kept in the
    hub store, at most `apq_max_entries` of at most `apq_max_document_bytes` each and at
    most `apq_max_total_bytes` together, for all callers (anyone may register); the
    least recently used go first, and one unused for `apq_ttl_days` is forgotten. Pushed
    operations are kept apart and never evicted."""

    model_config = ConfigDict(extra="forbid")

    apq_enabled: bool = True
    apq_max_entries: int = Field(default=10_000, ge=10, le=10_000_000)
    apq_max_document_bytes: int = Field(default=32 * 1024, ge=256, le=1024 * 1024)
    apq_max_total_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, le=16 * 1024**3)
    apq_ttl_days: float = Field(default=30, gt=0, le=3650)
    # how long an instance keeps a pushed operation it looked up (`hub operations
    # remove` takes effect everywhere within this)
    operation_cache_seconds: float = Field(default=10, ge=0, le=3600)

    @model_validator(mode="after")
    def _document_fits(self) -> PersistedQuerySettings:
        if self.apq_max_total_bytes < self.apq_max_document_bytes:
            raise ValueError("persisted_queries.apq_max_total_bytes must hold at least one document "
                             "(apq_max_document_bytes)")
        return self


class EventSettings(BaseModel):
    """Real-time events (issue 25): the feed readers, the bus and the subscriptions.

    One instance at a time reads the sources' change feeds (the holder of a lease in the
    hub store, renewed every third of `lease_seconds`; another instance takes over at
    most `lease_seconds` after the holder stops renewing). An idle feed is read every
    `poll_seconds`, a failing one after a doubling delay up to `max_backoff_seconds`.
    The newest `retention` events stay in the hub store's event log (and, with
    `redis_url`, in the Redis stream `stream_key`): `after:` replays within them.

    A source that can push is given a `webhook_secrets` entry (its source id, licensing
    or complaints, and a Standard Webhooks secret: `whsec_` and 24 to 64 random bytes in
    base64) and signs a POST to `/hooks/sources/{source}` after each change: the lease
    holder then reads that feed at once (hub.events.hooks). Polling goes on as the
    safety net; with pushing sources `poll_seconds` may be raised (without `redis_url`
    it is also how often the other instances read the event log). A webhook reaching an
    instance that does not hold the lease is passed on over Redis (`wake_channel`)."""

    read_feeds: bool = True  # False: this instance only delivers (never takes the lease)
    poll_seconds: float = Field(default=0.5, gt=0, le=300)
    lease_seconds: float = Field(default=6.0, ge=1, le=300)
    max_backoff_seconds: float = Field(default=30.0, gt=0, le=3600)
    batch: int = Field(default=500, ge=1, le=1000)  # changes read per feed request
    retention: int = Field(default=100_000, ge=100, le=10_000_000)
    stream_key: str = "simpul:events"
    # checked when the app is made (hub.events.hooks), so that an error never prints a secret
    webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    wake_channel: str = "simpul:feeds-wake"
    subscriber_queue: int = Field(default=1000, ge=10, le=100_000)  # events a slow subscriber may lag
    # WebSocket subscribers whose results are provably identical share one run of their
    # subscription (hub.events.groups); False: every subscriber runs its own
    group_subscribers: bool = True
    # per principal (a token's subject, else the address): open subscription sockets,
    # and operations at once on one socket; past either the socket closes with 4429
    max_connections_per_principal: int = Field(default=20, ge=1, le=100_000)
    max_operations_per_connection: int = Field(default=20, ge=1, le=1000)
    connection_init_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # pages that may open a socket: any by default, since a socket authenticates in
    # `connection_init` (a token the page holds), never with cookies a browser adds itself
    allowed_origins: list[str] = Field(default_factory=lambda: ["*"])


class NotificationSettings(BaseModel):
    """Notifications to citizens about their applications and complaints (issue 25),
    sent as Standard Webhooks (HMAC-SHA256 over id, timestamp and body) to a gateway
    (an SMS or WhatsApp provider's adapter). Unset `url`: no notifications. `secret` is
    the gateway's `whsec_...` secret (base64). Failed deliveries are retried from the
    outbox in the hub store with a doubling delay from `backoff_seconds` up to
    `max_backoff_seconds`, `max_attempts` times, then marked failed."""

    url: str | None = None
    secret: SecretStr | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    max_attempts: int = Field(default=12, ge=1, le=100)
    backoff_seconds: float = Field(default=2.0, gt=0, le=3600)
    max_backoff_seconds: float = Field(default=600.0, gt=0, le=86400)
    poll_seconds: float = Field(default=1.0, gt=0, le=300)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIMPUL_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    store_url: str | None = None  # default: SQLite file in data_dir
    # what a start (and every `hub` command that opens the store) does with a store whose
    # schema is older than this release's (hub.migrations): "upgrade" migrates it first
    # (on PostgreSQL under a lock, so instances starting together take turns); "refuse"
    # stops with a message to run `hub migrate` (a deployment that migrates as its own step)
    store_migrations: Literal["upgrade", "refuse"] = "upgrade"
    redis_url: str | None = Field(default=None, description=REDIS_URL_DESCRIPTION)
    region_file: Path | None = None  # default: the shipped reference data
    policy_file: Path | None = None
    purposes_file: Path | None = None
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    issuer: IssuerSettings = Field(default_factory=IssuerSettings)
    ledger_checkpoints: LedgerCheckpointSettings = Field(default_factory=LedgerCheckpointSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    trace_sources: bool = False  # add `extensions.sources` to every response
    # Apollo Federation v2 subgraph mode (schema.federation): Citizen, Family, Application
    # and Complaint become entities resolved through `_entities` under the caller's own
    # token, purpose, policy and ledger; `_service` gives a gateway the SDL
    federation: bool = False
    # how soon a revoked service account's tokens stop working on every instance: each
    # instance re-reads the revoked clients this often, and at once when `hub client
    # revoke` announces it on the Redis channel (with `redis_url`)
    revocation_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    revocation_channel: str = "simpul:revocations"
    # The key material of the listings' sealed cursors (`schema.cursors`): the same on
    # every instance of a deployment. Unset: derived from the hub issuer's signing key,
    # which every instance already shares (rotating that key ends open cursors).
    cursor_secret: SecretStr | None = None
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    persisted_queries: PersistedQuerySettings = Field(default_factory=PersistedQuerySettings)
    citizen: CitizenPageSettings = Field(default_factory=CitizenPageSettings)  # /warga (hub.citizen)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1, le=1000)
    # service metrics (issue 6): seconds between refreshes of the metrics view from the
    # sources' change feeds (0: only once at start-up), and the smallest group a public
    # report shows (small-count suppression)
    metrics_refresh_seconds: float = Field(default=60, ge=0, le=86400)
    report_min_group_size: int = Field(default=5, ge=1, le=1000)
    # A long-running server moves everything alive after start-up (schemas, policy,
    # modules) out of the garbage collector's sight (gc.freeze): full collections then
    # stop scanning it (no more long pauses on large listings). Off by default
    # because a process that builds many apps (the tests) would keep each one forever.
    freeze_heap_after_start: bool = False
    # With the heap frozen, the collector's thresholds for the server process (see
    # hub.heap): young collections every 10,000 allocations instead of 700, so that a
    # request's objects mostly die before they are promoted, and full collections (which
    # walk the sources' stale-answer caches) rarely run.
    gc_thresholds: tuple[int, int, int] = (10_000, 10, 100)
    # The interpreter's thread switch interval while the hub runs (see hub.switching):
    # how long a thread coming back from SQLite may wait for the event loop's thread to
    # let go of the GIL. Python's own default is 5 ms.
    switch_interval_ms: float = Field(default=0.5, gt=0, le=1000)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # on SIGTERM (hub.shutdown): stop accepting, close WebSockets with 1001, let requests in
    # flight finish, within this many seconds (then what still runs is cancelled); the
    # ledger is flushed and the pools closed after it
    shutdown_grace_seconds: float = Field(default=30.0, gt=0, le=3600)
    # the server's log lines (hub.log_format): "text" for people, "json" (one object a
    # line, with request_id and trace_id) for a log pipeline; and the lowest level shown
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # OpenTelemetry traces (hub.telemetry; the `telemetry` extra): request, source-call and
    # SQL spans exported over OTLP as the standard OTEL_* variables say; off costs nothing
    tracing: bool = False
    # Prometheus' /metrics (hub.metrics_access): with `metrics_port` it is served on that
    # port only (on `metrics_host`, default: `host`; 0 picks a free port) and the main port
    # answers 404 for it; with `metrics_token` it wants `Authorization: Bearer <token>`
    # wherever it is served. Neither: the main port serves it to anyone.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str | None = None
    metrics_token: SecretStr | None = None

    @field_validator("gc_thresholds")
    @classmethod
    def _collector_on(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if value[0] < 100 or min(value[1:]) < 1:
            raise ValueError("gc_thresholds: the first at least 100, the others at least 1 (0 would stop the collector)")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("metrics_token: at least 16 characters")
        return value

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        known = ["population", "licensing", "complaints", *source_plugins()]
        unknown = set(value) - set(known)
        if unknown:
            raise ValueError(f"unknown source id(s) {sorted(unknown)}; known: {', '.join(known)} "
                             "(a further source comes from an installed plug-in: connectors/README.md)")
        return value

    @model_validator(mode="after")
    def _development_idp_allowed(self) -> Settings:
        check_allowed(self.citizen, development=self.issuer.development, host=self.host)
        return self

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}"

    @property
    def resolved_checkpoint_file(self) -> Path:
        if self.ledger_checkpoints.file is not None:
            return self.ledger_checkpoints.file
        return (self.sqlite_store_file or self.data_dir / "hub.db").parent / CHECKPOINT_FILE

    @property
    def sqlite_store_file(self) -> Path | None:
        """The store's SQLite file, if the store is one."""
        url = make_url(self.resolved_store_url)
        database = url.database or ""
        if url.query.get("uri"):  # `file:name?mode=...` URIs
            database = database.removeprefix("file:")
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            return None
        return Path(database)

    @property
    def resolved_region_file(self) -> Path:
        return self.region_file or Path(__file__).parent / "reference" / "regions.yaml"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


class ConfigError(Exception):
    """The configuration file or environment is not usable; the message says why."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment, `config_file` (TOML) and `overrides`."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    cls: type[Settings] = Settings
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"configuration file {config_file} does not exist")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(toml_file=config_file)

        cls = FileSettings
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_without_inputs(exc)}") from exc
    except Exception as exc:  # TOML decode errors
        raise ConfigError(f"invalid configuration: {exc}") from exc


def _without_inputs(exc: ValidationError) -> str:
    """Pydantic's errors without the values given: a rejected secret (a token too short,
    a malformed webhook secret) must not reach a log or a terminal."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False))
