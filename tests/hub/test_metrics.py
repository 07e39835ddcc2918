"""The hub's Prometheus figures, counted through cached label children."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from hub.metrics import HubMetrics, MetricsMiddleware


def _app(metrics: HubMetrics) -> Starlette:
    async def ok(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/healthz", ok, methods=["GET", "PROPFIND"]), Route("/metrics", metrics.endpoint)],
                     middleware=[Middleware(MetricsMiddleware, metrics=metrics)])


def test_requests_are_counted_by_route_method_and_status_and_odd_methods_are_one_series() -> None:
    metrics = HubMetrics()
    with TestClient(_app(metrics)) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        client.request("PROPFIND", "/healthz")
        client.request("BREW", "/healthz")  # 405
        text = client.get("/metrics").text
    assert 'simpul_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert 'simpul_http_requests_total{method="OTHER",route="/healthz",status="200"} 1.0' in text
    assert 'simpul_http_requests_total{method="OTHER",route="/healthz",status="405"} 1.0' in text
    assert "PROPFIND" not in text and "BREW" not in text


def test_operation_figures_add_up_across_requests() -> None:
    metrics = HubMetrics()
    tally = {"source": "licensing", "operation": "applications_by_applicant", "calls": 1, "items": 4, "ms": 2.5}
    for _ in range(2):
        metrics.observe_operation(sources=[tally, {**tally, "stale": True}], error_codes=["FORBIDDEN"],
                                  ledger_actions=["read", "read"])
    value = metrics.registry.get_sample_value
    labels = {"source": "licensing", "operation": "applications_by_applicant"}
    assert value("simpul_source_calls_total", labels) == 4
    assert value("simpul_source_items_total", labels) == 16
    assert value("simpul_source_seconds_total", labels) == 0.01
    assert value("simpul_source_stale_answers_total", labels) == 2
    assert value("simpul_graphql_errors_total", {"code": "FORBIDDEN"}) == 2
    assert value("simpul_ledger_entries_total", {"action": "read"}) == 4
