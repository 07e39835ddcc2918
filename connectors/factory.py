"""Build a source from its configuration (the settings loader passes plain mappings):
the hub's three, and those of installed plug-ins (connectors.plugins).

    build_source("population", {"backend": "sql", "url": "sqlite:///data/siak.db"})
    build_source("licensing", {"backend": "rest", "url": "http://127.0.0.1:8101",
                               "api_key": "..."})
    build_source("complaints", {"backend": "memory"})

Wrong configuration raises `ValueError` naming the source and the key, at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, overload

from connectors.complaints.rest import RestComplaintSource
from connectors.licensing.rest import RestLicensingSource
from connectors.memory import (
    InMemoryComplaintSource,
    InMemoryLicensingSource,
    InMemoryPopulationSource,
)
from connectors.population.mapping import PopulationMapping
from connectors.plugins import source_plugins
from connectors.population.sql import SqlPopulationSource
from connectors.protocols import (
    ComplaintSource,
    LicensingSource,
    PopulationSource,
    Source,
)

#: source id → backend name → (builder, required keys, optional keys)
_Builder = Callable[[str, Mapping[str, Any]], Source]


def _sql_population(source_id: str, cfg: Mapping[str, Any]) -> Source:
    options: dict[str, Any] = {}
    if "mapping" in cfg:
        options["mapping"] = PopulationMapping.from_dict(cfg["mapping"])
    for key in ("read_only", "pool_size", "timeout"):
        if key in cfg:
            options[key] = cfg[key]
    return SqlPopulationSource(
        _text(source_id, cfg, "url"), source_id=source_id, **options
    )


def _rest(cls: Any) -> _Builder:
    def build(source_id: str, cfg: Mapping[str, Any]) -> Source:
        options = {k: cfg[k] for k in ("timeout", "max_connections") if k in cfg}
        source: Source = cls(
            _text(source_id, cfg, "url"),
            api_key=_text(source_id, cfg, "api_key"),
            source_id=source_id,
            **options,
        )
        return source

    return build


def _memory(cls: Any) -> _Builder:
    def build(source_id: str, cfg: Mapping[str, Any]) -> Source:
        source: Source = cls(cfg.get("records", ()), source_id=source_id)
        return source

    return build


_BACKENDS: dict[str, dict[str, tuple[_Builder, frozenset[str]]]] = {
    "population": {
        "sql": (
            _sql_population,
            frozenset({"url", "mapping", "read_only", "pool_size", "timeout"}),
        ),
        "memory": (
            _memory(InMemoryPopulationSource),
            frozenset({"records", "timeout"}),
        ),
    },
    "licensing": {
        "rest": (
            _rest(RestLicensingSource),
            frozenset({"url", "api_key", "timeout", "max_connections"}),
        ),
        "memory": (_memory(InMemoryLicensingSource), frozenset({"records", "timeout"})),
    },
    "complaints": {
        "rest": (
            _rest(RestComplaintSource),
            frozenset({"url", "api_key", "timeout", "max_connections"}),
        ),
        "memory": (_memory(InMemoryComplaintSource), frozenset({"records", "timeout"})),
    },
}


@overload
def build_source(
    source_id: Literal["population"], config: Mapping[str, Any]
) -> PopulationSource: ...
@overload
def build_source(
    source_id: Literal["licensing"], config: Mapping[str, Any]
) -> LicensingSource: ...
@overload
def build_source(
    source_id: Literal["complaints"], config: Mapping[str, Any]
) -> ComplaintSource: ...
@overload
def build_source(source_id: str, config: Mapping[str, Any]) -> Source: ...


def build_source(source_id: str, config: Mapping[str, Any]) -> Source:
    """The configured backend for `source_id`; `ValueError` for bad configuration.

    The memory backend ignores `timeout` (settings pass it to every backend).
    """
    plugins = source_plugins()
    if source_id not in _BACKENDS and source_id not in plugins:
        raise ValueError(
            f"unknown source {source_id!r}: expected one of {', '.join([*_BACKENDS, *plugins])}"
        )
    if not isinstance(config, Mapping):
        raise ValueError(f"sources.{source_id}: configuration must be a mapping")  # noqa: TRY004 (configuration errors are ValueError)
    plugin = plugins.get(source_id)
    backends = _BACKENDS[source_id] if plugin is None else plugin.backends
    backend = config.get("backend")
    if backend not in backends:
        raise ValueError(
            f"sources.{source_id}.backend: {backend!r} is not one of {', '.join(backends)}"
        )
    builder, allowed = backends[backend]
    unknown = sorted(set(config) - allowed - {"backend"})
    if unknown:
        raise ValueError(
            f"sources.{source_id}: unknown key(s) {', '.join(map(str, unknown))} for the "
            f"{backend} backend (allowed: {', '.join(sorted(allowed))})"
        )
    try:
        source = builder(source_id, config)
    except ValueError as exc:
        message = str(exc)
        if message.startswith(f"sources.{source_id}"):
            raise
        raise ValueError(f"sources.{source_id}: {message}") from exc
    except TypeError as exc:
        raise ValueError(f"sources.{source_id}: invalid value ({exc})") from exc
    if plugin is not None and not isinstance(source, plugin.protocol):
        raise ValueError(f"sources.{source_id}: the {backend} backend does not implement "
                         f"{plugin.protocol.__name__}")
    return source


def _text(source_id: str, cfg: Mapping[str, Any], key: str) -> str:
    value = cfg.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"sources.{source_id}.{key} is required (a non-empty string)")
    return value
