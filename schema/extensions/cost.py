"""What a query may cost: computed from the document before execution, so that an
operation over its role's limit is refused before any source is called.

The model (an upper bound, cheap to compute):

- a field whose type is an object costs 1, a scalar or enum field costs 0;
- a field with a `first` argument (Relay connections, the ledger readers) multiplies
  the cost of its children by that page size (the configured default when absent);
- a plain list of objects on a record (`Citizen.applications`, `Family.members`)
  multiplies its children's cost by an estimate (`list_estimate`, 10 by default);
  the `edges` of a connection are already counted by its `first`;
- fragments are counted where they are spread (each fragment once, memoised, so a
  document of nested fragments cannot make the count itself expensive);
- introspection fields (`__schema`, `__type`, `__typename`) cost nothing here: their
  answer is bounded by the shape limits' introspection rules (its depth, and a type's
  members listed at most once on a path, so the answer grows with the role's schema:
  `schema/extensions/shape.py`) with the alias, selection and token limits, and
  introspection is allowed per role.

Over the limit: `QUERY_TOO_COMPLEX` with `extensions.cost` and `extensions.maximum`.

The cost depends on the document and on the values of the variables that give a `first`
(nothing else is read), so each schema keeps recent costs by the document's text, the
operation and those values (`Costs`): a client sending the same query with another NIK
does not walk the document again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_composite_type,
    value_from_ast,
    visit,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from schema.errors import QueryTooComplex

DEFAULT_LIST_ESTIMATE = 10
PAGE_ARGUMENT = "first"


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,  # the page variables, coerced
        *,
        default_page_size: int,
        list_estimate: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.list_estimate = list_estimate
        self._fragment_costs: dict[str, int] = {}
        self._visiting: set[str] = set()

    def selection_set(self, parent: GraphQLNamedType, node: SelectionSetNode | None) -> int:
        if node is None:
            return 0
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(self._condition(selection, parent), selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, parent)
        return total

    def fragment(self, name: str, parent: GraphQLNamedType) -> int:
        if name in self._fragment_costs:
            return self._fragment_costs[name]
        definition = self.fragments.get(name)
        if definition is None or name in self._visiting:  # validation refuses both
            return 0
        self._visiting.add(name)
        cost = self.selection_set(self._condition(definition, parent), definition.selection_set)
        self._visiting.discard(name)
        self._fragment_costs[name] = cost
        return cost

    def field(self, parent: GraphQLNamedType, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        children = self.selection_set(named, node.selection_set)
        base = 1 if is_composite_type(named) else 0
        return base + self._multiplier(parent, definition, node) * children

    def _multiplier(self, parent: GraphQLNamedType, definition: GraphQLField, node: FieldNode) -> int:
        page = definition.args.get(PAGE_ARGUMENT)
        if page is not None:
            first = self._page_value(page, node)
            return max(first, 0) if isinstance(first, int) else self.default_page_size
        if _is_list(definition.type) and is_composite_type(get_named_type(definition.type)):
            return 1 if _is_connection(parent) else self.list_estimate
        return 1

    def _page_value(self, page: GraphQLArgument, node: FieldNode) -> Any:
        """The value of the field's `first` argument alone, as execution will see it:
        the other arguments are not coerced, so a variable the cost does not read (only
        page variables are given, see `query_cost`) cannot hide the page size."""
        given = next((a.value for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None)
        variables = self.variables.coerced if self.variables is not None else {}
        if given is None or (isinstance(given, VariableNode) and given.name.value not in variables):
            return page.default_value  # Undefined (no default), None, or the default size
        return value_from_ast(given, page.type, variables)  # Undefined when invalid: execution reports it

    def _condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLNamedType
    ) -> GraphQLNamedType:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(type_: GraphQLNamedType) -> bool:
    fields = getattr(type_, "fields", {})
    return "edges" in fields and "pageInfo" in fields


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    default_page_size: int = 20,
    list_estimate: int = DEFAULT_LIST_ESTIMATE,
) -> int:
    """The cost of the operation `operation_name` of a validated `document` (0 when the
    operation cannot be found: execution reports that)."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    page = page_variables(document)
    definitions = [d for d in operation.variable_definitions or () if d.variable.name.value in page]
    coerced = get_variable_values(schema, definitions, dict(variables or {}))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    counter = _Counter(
        schema,
        fragments,
        None if isinstance(coerced, list) else coerced,
        default_page_size=default_page_size,
        list_estimate=list_estimate,
    )
    return counter.selection_set(root, operation.selection_set)


class _PageVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self._in_page = False

    def enter_argument(self, node: Any, *_: Any) -> None:
        self._in_page = node.name.value == PAGE_ARGUMENT

    def leave_argument(self, *_: Any) -> None:
        self._in_page = False

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if self._in_page:
            self.names.add(node.name.value)


def page_variables(document: DocumentNode) -> frozenset[str]:
    """The variables a `first` argument of `document` reads: the only ones its cost
    depends on (fragments included: they may be spread into any operation)."""
    finder = _PageVariables()
    visit(document, finder)
    return frozenset(finder.names)


_MISSING = object()


class Costs:
    """One schema's recent costs: (text, operation, default page size, the page
    variables' values) -> cost; bounded, least recently used out."""

    def __init__(self, maxsize: int = 512) -> None:
        self._pages: LRUCache[str, tuple[str, ...]] = LRUCache(maxsize)  # text -> page variables
        self._costs: LRUCache[Hashable, int] = LRUCache(maxsize)

    def key(self, query: str, document: DocumentNode, operation_name: str | None, default_page_size: int,
            variables: Mapping[str, Any] | None) -> Hashable | None:
        """The cache key of this request's cost, or None when it cannot be cached (a
        page variable whose value is not hashable: the cost is then computed)."""
        names = self._pages.get(query)
        if names is None:
            names = self._pages[query] = tuple(sorted(page_variables(document)))
        given = variables or {}
        # typed: True == 1 and hash alike, but only 1 is an Int
        values = tuple((type(value), value) for value in (given.get(name, _MISSING) for name in names))
        key = (query, operation_name, default_page_size, values)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def get(self, key: Hashable) -> int | None:
        return self._costs.get(key)

    def put(self, key: Hashable, cost: int) -> None:
        self._costs[key] = cost

    def __len__(self) -> int:
        return len(self._costs)


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose cost exceeds `maximum`, before it executes.

    The default page size comes from the request context's environment when it has
    one (`context.env.default_page_size`), else `default_page_size`."""

    def __init__(
        self,
        *,
        maximum: int,
        list_estimate: int = DEFAULT_LIST_ESTIMATE,
        default_page_size: int = 20,
        costs: Costs | None = None,
    ) -> None:
        if maximum < 1 or list_estimate < 1 or default_page_size < 1:
            raise ValueError("cost limits must be positive")
        self.maximum = maximum
        self.list_estimate = list_estimate
        self.default_page_size = default_page_size
        self.costs = costs  # shared by the schema's requests (pass one per schema)

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None:
            env = getattr(execution.context, "env", None)
            page_size = getattr(env, "default_page_size", self.default_page_size)
            costs = self.costs
            query = execution.query  # none: a document given without its text, not cached
            key = costs.key(query, document, execution.operation_name, page_size,
                            execution.variables) if costs is not None and query else None
            cost = costs.get(key) if key is not None else None
            if cost is None:
                cost = query_cost(
                    execution.schema._schema,
                    document,
                    operation_name=execution.operation_name,
                    variables=execution.variables,
                    default_page_size=page_size,
                    list_estimate=self.list_estimate,
                )
                if key is not None:
                    costs.put(key, cost)
            if cost > self.maximum:
                raise QueryTooComplex(
                    f"This operation would cost {cost}, more than the {self.maximum} allowed "
                    "for your role: ask for smaller pages (`first`) or fewer nested lists",
                    details={"cost": cost, "maximum": self.maximum},
                )
        yield


__all__ = ["DEFAULT_LIST_ESTIMATE", "Costs", "QueryCostLimiter", "QueryTooComplex", "page_variables", "query_cost"]
