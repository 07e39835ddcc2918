"""Source backends from other installed packages, through the `simpul.sources` entry
point group.

A package declares, in its pyproject:

    [project.entry-points."simpul.sources"]
    aid = "simpul_village_aid.connector:PLUGIN"

and the object named there is a `SourcePlugin`: the source id it serves (a new one, not
one of the hub's own), the protocol its backends implement, and its backends with the
configuration keys each accepts. `build_source` (connectors.factory) builds a plug-in's
source from configuration exactly as it builds the hub's own, and refuses a backend
that does not implement the plug-in's protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from connectors.protocols import Source

ENTRY_POINT_GROUP = "simpul.sources"

#: the source ids of the hub itself: a plug-in may not replace them
BUILT_IN_SOURCES = frozenset({"population", "licensing", "complaints"})

log = logging.getLogger("simpul.connectors")

Builder = Callable[[str, Mapping[str, Any]], Source]


@dataclass(frozen=True, slots=True)
class SourcePlugin:
    """One source system contributed by a package.

    `backends`: backend name -> (builder, allowed configuration keys besides `backend`);
    a builder takes the source id and the configuration and returns the source (raising
    `ValueError` on bad configuration). `protocol` is a `runtime_checkable` protocol
    extending `connectors.protocols.Source`."""

    source_id: str
    protocol: type
    backends: Mapping[str, tuple[Builder, frozenset[str]]] = field(default_factory=dict)
    description: str = ""


class PluginError(ValueError):
    """An installed plug-in is broken (it does not load, or declares what it may not)."""


def _checked(name: str, value: object) -> SourcePlugin:
    if not isinstance(value, SourcePlugin):
        raise PluginError(f"entry point {ENTRY_POINT_GROUP}:{name} is not a connectors.plugins.SourcePlugin")
    if value.source_id in BUILT_IN_SOURCES:
        raise PluginError(f"plug-in {name!r} declares the hub's own source id {value.source_id!r}")
    if not value.source_id.isidentifier():
        raise PluginError(f"plug-in {name!r}: source id {value.source_id!r} is not an identifier")
    if not (isinstance(value.protocol, type) and Source in value.protocol.__mro__):
        raise PluginError(f"plug-in {name!r}: its protocol must extend connectors.protocols.Source")
    if not value.backends:
        raise PluginError(f"plug-in {name!r} has no backend")
    return value


@cache
def source_plugins() -> Mapping[str, SourcePlugin]:
    """The installed plug-ins by source id (read once); `PluginError` for a broken one,
    so a hub does not start with a source half there."""
    found: dict[str, SourcePlugin] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 (any import failure of a third-party package)
            raise PluginError(f"entry point {ENTRY_POINT_GROUP}:{point.name} ({point.value}) "
                              f"does not load: {exc}") from exc
        plugin = _checked(point.name, loaded)
        if plugin.source_id in found:
            raise PluginError(f"two plug-ins declare the source id {plugin.source_id!r}")
        found[plugin.source_id] = plugin
        log.info("source plug-in %s loaded from %s", plugin.source_id, point.value)
    return found
