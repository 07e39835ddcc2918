"""A document with several operations needs `operationName` (GraphQL spec, GetOperation):
strawberry would otherwise run the first one silently."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension


class SingleOperationGuard(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        # `operation_name` falls back to the document's first operation; what the client
        # actually sent is kept on the context as `_provided_operation_name`
        provided = getattr(execution, "_provided_operation_name", execution.operation_name)
        if document is not None and provided is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                execution.result = ExecutionResult(
                    data=None,
                    errors=[GraphQLError(
                        "The document holds several operations: say which one to run with `operationName`",
                        extensions={"code": "BAD_USER_INPUT"},
                    )],
                )
        yield
