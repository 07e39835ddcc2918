"""Adds the request's source trace to the response as `extensions.sources`, and the
time spent waiting on the sources as `extensions.sourceWaitMs` (see `schema.trace`).

Shown to principals with the operator role, or to everyone when the environment's
`trace_sources` setting is on (`hub demo` turns it on).
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

OPERATOR_ROLE = "operator"


class SourceTraceExtension(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        trace = getattr(ctx, "trace", None)
        if trace is None:
            return {}
        if ctx.env.trace_sources or ctx.principal.has_role(OPERATOR_ROLE):
            return {"sources": trace.as_list(), "sourceWaitMs": trace.wait_ms()}
        return {}
