"""The HTTP boundary turns every failure into a connector error, `from` the original."""

from __future__ import annotations

import asyncio
import contextlib

import httpx2 as httpx
import pytest

from connectors.errors import (
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)
from connectors._budget import call_budget
from connectors.http import SourceHttpClient
from tests.support.slow_http import LeakedConnection, slow_server


def client(handler, **kwargs) -> SourceHttpClient:
    return SourceHttpClient(
        "http://127.0.0.1:9",
        api_key="k",
        source_id="licensing",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def answer(status: int, body: object = None, content: bytes | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=body)

    return handler


def err(kode: str, pesan: str) -> dict[str, object]:
    return {"error": {"kode": kode, "pesan": pesan}}


async def test_the_api_key_and_idempotency_key_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    http = client(handler)
    assert await http.request(
        "POST", "/x", operation="op", json={"a": 1}, idempotency_key="abc"
    ) == {"ok": True}
    await http.aclose()
    assert seen[0].headers["X-API-Key"] == "k"
    assert seen[0].headers["Idempotency-Key"] == "abc"
    assert seen[0].headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("base_url", [
    pytest.param("http://127.0.0.1:9", id="host"),
    pytest.param("http://127.0.0.1:9/", id="host-slash"),
    pytest.param("http://gateway:8080/siak/v2", id="prefix"),
    pytest.param("https://gateway/siak%20x/", id="encoded-prefix"),
])
@pytest.mark.parametrize(("path", "params"), [
    pytest.param("/api/v1/permohonan/cari", None, id="plain"),
    pytest.param("/api/v1/permohonan/14%2F2025%2F0001/berkas", None, id="quoted-key"),
    pytest.param("/api/v1/perubahan", {"cursor": "a b", "limit": 5, "skip": None}, id="query"),
    pytest.param("relative/path", {}, id="relative"),
])
async def test_requests_go_to_the_url_the_client_itself_would_join(base_url, path, params) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    http = SourceHttpClient(base_url, api_key="k", source_id="licensing", transport=httpx.MockTransport(handler))
    await http.request("GET", path, operation="op", params=params)
    query = {k: v for k, v in (params or {}).items() if v is not None}
    expected = httpx.AsyncClient(base_url=base_url).build_request("GET", path, params=query).url
    await http.aclose()
    assert seen[0].url == expected


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        pytest.param(
            401,
            err("API_KEY_INVALID", "kunci salah"),
            SourceUnavailable,
            "API key rejected",
            id="401",
        ),
        pytest.param(
            404,
            err("TIDAK_DITEMUKAN", "tidak ada"),
            RecordNotFound,
            "the licensing source has no such record",
            id="404",
        ),
        pytest.param(
            400,
            err("PERMINTAAN_TIDAK_VALID", "limit salah"),
            SourceRejected,
            r"the licensing source refused the request \(HTTP 400\)",
            id="400",
        ),
        pytest.param(
            409,
            err("TRANSISI_TIDAK_VALID", "tidak boleh"),
            SourceRejected,
            r"the licensing source refused the request \(HTTP 409\)",
            id="409",
        ),
        pytest.param(422, None, SourceRejected, "HTTP 422", id="422-without-body"),
        pytest.param(
            503, err("GANGGUAN", "gangguan"), SourceUnavailable, "HTTP 503", id="503"
        ),
        pytest.param(500, "oops", SourceUnavailable, "HTTP 500", id="500"),
        pytest.param(429, None, SourceUnavailable, "HTTP 429", id="429"),
    ],
)
async def test_error_answers_become_connector_errors(
    status, body, error, message
) -> None:
    http = client(answer(status, body))
    with pytest.raises(error, match=message) as info:
        await http.request("GET", "/x", operation="lookup")
    await http.aclose()
    assert type(info.value) is error
    assert info.value.source == "licensing" and info.value.operation == "lookup"
    if isinstance(body, dict):  # the source's own words: kept for the log, never shown
        kode, pesan = body["error"]["kode"], body["error"]["pesan"]
        shown = f"{info.value.message} {info.value.details}"
        assert kode not in shown and pesan not in shown, shown
        assert info.value.source_says == f"{pesan} [{kode}]"


async def test_invalid_json_in_a_success_is_source_unavailable() -> None:
    http = client(answer(200, content=b"<html>"))
    with pytest.raises(SourceUnavailable, match="invalid JSON") as info:
        await http.request("GET", "/x", operation="op")
    await http.aclose()
    assert info.value.__cause__ is not None


async def test_a_connection_failure_is_source_unavailable_from_the_transport_error() -> (
    None
):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = client(handler)
    with pytest.raises(SourceUnavailable, match="cannot reach") as info:
        await http.request("GET", "/x", operation="op")
    await http.aclose()
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_a_slow_answer_is_a_source_timeout_by_the_clients_own_read_timeout() -> None:
    async with slow_server(delay=1.0) as url:
        http = SourceHttpClient(url, api_key="k", source_id="licensing", timeout=0.05)
        with pytest.raises(SourceTimeout, match="0.05 s") as info:
            await http.request("GET", "/x", operation="op")
        await http.aclose()
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)  # not an outer cancellation


async def test_the_guards_budget_shortens_the_clients_timeouts() -> None:
    async with slow_server(delay=1.0) as url:
        http = SourceHttpClient(url, api_key="k", source_id="licensing", timeout=5.0)
        started = asyncio.get_running_loop().time()
        with call_budget(0.1), pytest.raises(SourceTimeout):
            await http.request("GET", "/x", operation="op")
        assert asyncio.get_running_loop().time() - started < 1.0
        await http.aclose()


async def test_cancelled_requests_under_pool_contention_leave_no_slot_held() -> None:
    """The wedge of issue 26 (encode/httpcore#1093): requests cancelled while the pool
    connects for them must not keep their slots; afterwards every request is answered."""
    delays = iter([0.0, 0.01, 0.3, 0.8] * 1000)
    async with slow_server(delay=lambda: next(delays)) as url:
        http = SourceHttpClient(url, api_key="k", source_id="licensing", timeout=0.5, max_connections=4)

        async def impatient(seconds: float) -> None:
            with contextlib.suppress(TimeoutError, SourceTimeout):
                async with asyncio.timeout(seconds):
                    await http.request("GET", "/x", operation="op")

        for _ in range(6):
            await asyncio.gather(*(impatient(s) for s in [0.001, 0.01, 0.05, 0.2, 0.6] * 4))
        state = http.pool_state()
        assert state.stuck == 0 and state.in_flight == 0, state
        assert state.recycled == 0  # the client itself reclaimed them; no pool replacement
        delays = iter([0.0] * 1000)
        answers = await asyncio.gather(*(http.request("GET", "/x", operation="op") for _ in range(8)))
        assert answers == [{}] * 8
        await http.aclose()


async def test_a_pool_wedged_by_connections_without_requests_is_replaced() -> None:
    """The belt to the braces above: should a slot ever leak again, the request that
    waited for the pool in vain replaces it, and the next request is answered."""
    async with slow_server(delay=0.0) as url:
        http = SourceHttpClient(url, api_key="k", source_id="licensing", timeout=0.2, max_connections=2)
        pool = http._client._transport._pool
        pool._connections.extend([LeakedConnection(), LeakedConnection()])
        assert http.pool_state().stuck == 2
        with pytest.raises(SourceTimeout, match="no free connection"):
            await http.request("GET", "/x", operation="op")
        assert http.pool_state().recycled == 1
        assert await http.request("GET", "/x", operation="op") == {}
        assert http.pool_state().stuck == 0
        await http.aclose()


async def test_an_httpx_timeout_is_a_source_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    http = client(handler)
    with pytest.raises(SourceTimeout):
        await http.request("GET", "/x", operation="op")
    await http.aclose()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"base_url": "ftp://x"}, "http", id="scheme"),
        pytest.param({"base_url": "not a url"}, "http", id="garbage"),
        pytest.param({"base_url": "http://gateway/?tenant=1"}, "no query", id="query"),
        pytest.param({"base_url": "http://gateway/#top"}, "no query or fragment", id="fragment"),
        pytest.param({"api_key": ""}, "api_key", id="empty-key"),
        pytest.param({"timeout": 0}, "timeout", id="timeout"),
        pytest.param({"max_connections": 0}, "max_connections", id="pool"),
    ],
)
def test_bad_client_configuration_is_refused(kwargs, message) -> None:
    options = {"base_url": "http://127.0.0.1:1", "api_key": "k", **kwargs}
    base_url = options.pop("base_url")
    with pytest.raises(ValueError, match=message):
        SourceHttpClient(base_url, source_id="licensing", **options)
