"""Which fields of which types a GraphQL document selects (fragments included).

Computed once per distinct document and operation, and used to decide whether an
operation touches personal data and which fields the access ledger records."""

from __future__ import annotations

from collections.abc import Mapping

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from graphql.language import FieldNode

_CACHE_SIZE = 512


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.selected: dict[str, set[str]] = {}

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None and not node.name.value.startswith("__"):
            self.selected.setdefault(parent.name, set()).add(node.name.value)


class SelectionIndex:
    """An LRU of document -> {type name: selected field names}."""

    def __init__(self, schema: GraphQLSchema, *, size: int = _CACHE_SIZE) -> None:
        self._schema = schema
        self._cache: LRUCache[str, Mapping[str, frozenset[str]]] = LRUCache(size)

    def selected(self, document: DocumentNode, key: str) -> Mapping[str, frozenset[str]]:
        found = self._cache.get(key)
        if found is not None:
            return found
        type_info = TypeInfo(self._schema)
        collector = _Collector(type_info)
        visit(document, TypeInfoVisitor(type_info, collector))
        found = {t: frozenset(f) for t, f in collector.selected.items()}
        self._cache[key] = found
        return found
