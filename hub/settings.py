"""Settings: the one place that reads the environment and the configuration file.

Precedence, highest first: keyword overrides (the CLI), environment variables
(`SIMPUL_` prefix, `__` between nested names: `SIMPUL_SOURCES__LICENSING__URL`), the
TOML file given with `--config`, then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "simpul"


class SourceSettings(BaseModel):
    backend: Literal["sql", "rest", "memory"]
    url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=5.0, gt=0, le=120)
    mapping: dict[str, Any] = Field(default_factory=dict)

    def connector_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"backend": self.backend, "timeout": self.timeout}
        if self.url is not None:
            config["url"] = self.url
        if self.api_key is not None:
            config["api_key"] = self.api_key.get_secret_value()
        if self.mapping:
            config["mapping"] = self.mapping
        return config


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIMPUL_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    store_url: str | None = None  # default: SQLite file in data_dir
    redis_url: str | None = None  # shared cache, rate limits, events between instances
    region_file: Path | None = None  # default: the shipped reference data
    policy_file: Path | None = None
    purposes_file: Path | None = None
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    issuer: IssuerSettings = Field(default_factory=IssuerSettings)
    trace_sources: bool = False  # add `extensions.sources` to every response
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1, le=1000)
    # service metrics (issue 6): seconds between refreshes of the metrics view from the
    # sources' change feeds (0: only once at start-up), and the smallest group a public
    # report shows (small-count suppression)
    metrics_refresh_seconds: float = Field(default=60, ge=0, le=86400)
    report_min_group_size: int = Field(default=5, ge=1, le=1000)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        unknown = set(value) - {"population", "licensing", "complaints"}
        if unknown:
            raise ValueError(f"unknown source id(s) {sorted(unknown)}; "
                             "known: population, licensing, complaints")
        return value

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}"

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
    except Exception as exc:  # pydantic's ValidationError, TOML decode errors
        raise ConfigError(f"invalid configuration: {exc}") from exc
