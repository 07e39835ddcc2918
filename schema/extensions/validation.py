"""Validation, cached by the document's text.

Strawberry's `ValidationCache` keys its LRU by the parsed document, and graphql-core
3.3's AST nodes are dataclasses whose hash walks the whole tree (every node and source
location) on each look-up: about 140 hashes for the citizen-by-NIK query, on every
request. The parser cache already maps one text to one document, so the text says as
much: this cache keys by it (and by the validation rules), per schema.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

DEFAULT_MAXSIZE = 256

_Key = tuple[str, tuple[type, ...]]


class ValidationResults:
    """The validation errors of recent documents of one schema, least recently used
    first out (bounded, so unique texts from a public endpoint cannot grow it)."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._results: OrderedDict[_Key, list[GraphQLError]] = OrderedDict()

    def get(self, key: _Key) -> list[GraphQLError] | None:
        errors = self._results.get(key)
        if errors is not None:
            self._results.move_to_end(key)
        return errors

    def put(self, key: _Key, errors: list[GraphQLError]) -> None:
        self._results[key] = errors
        if len(self._results) > self.maxsize:
            self._results.popitem(last=False)

    def __len__(self) -> int:
        return len(self._results)


class TextValidationCache(SchemaExtension):
    """Pass as a factory sharing one `ValidationResults` per schema:
    `lambda: TextValidationCache(results)`."""

    def __init__(self, results: ValidationResults) -> None:
        self.results = results

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        rules = tuple(execution.validation_rules)
        key = (execution.query, rules) if execution.query else None  # no text: not cached
        errors = self.results.get(key) if key is not None else None
        if errors is None:
            errors = validate_document(execution.schema._schema, execution.graphql_document, rules)
            if key is not None:
                self.results.put(key, errors)
        execution.pre_execution_errors = errors
        yield


__all__ = ["TextValidationCache", "ValidationResults"]
