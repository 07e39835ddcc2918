"""Validation, cached by the document's text.

Strawberry's `ValidationCache` keys its LRU by the parsed document, and graphql-core
3.3's AST nodes are dataclasses whose hash walks the whole tree (every node and source
location) on each look-up: about 140 hashes for the citizen-by-NIK query, on every
request. The parser cache already maps one text to one document, so the text says as
much: this cache keys by it (and by the validation rules), per schema.
"""

from __future__ import annotations

from collections.abc import Iterator

from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

#: (text, validation rules) -> the document's validation errors, for one schema
ValidationResults = LRUCache[tuple[str, tuple[type, ...]], list[GraphQLError]]


class TextValidationCache(SchemaExtension):
    """Pass as a factory sharing one bounded `ValidationResults` per schema (so that
    unique texts from a public endpoint cannot grow it):
    `lambda: TextValidationCache(LRUCache(maxsize=256))`, the cache made once."""

    def __init__(self, results: ValidationResults) -> None:
        self.results = results

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.pre_execution_errors:  # refused before validation (ShapeLimiter)
            yield
            return
        rules = tuple(execution.validation_rules)
        key = (execution.query, rules) if execution.query else None  # no text: not cached
        errors = self.results.get(key) if key is not None else None
        if errors is None:
            errors = validate_document(execution.schema._schema, execution.graphql_document, rules)
            if key is not None:
                self.results[key] = errors
        execution.pre_execution_errors = errors
        yield


__all__ = ["TextValidationCache", "ValidationResults"]
