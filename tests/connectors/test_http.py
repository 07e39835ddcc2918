"""The HTTP boundary turns every failure into a connector error, `from` the original."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from connectors.errors import (
    RecordNotFound,
    SourceRejected,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.http import SourceHttpClient


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
            "tidak ada",
            id="404",
        ),
        pytest.param(
            400,
            err("PERMINTAAN_TIDAK_VALID", "limit salah"),
            SourceRejected,
            r"limit salah \[PERMINTAAN_TIDAK_VALID\]",
            id="400",
        ),
        pytest.param(
            409,
            err("TRANSISI_TIDAK_VALID", "tidak boleh"),
            SourceRejected,
            r"tidak boleh \[TRANSISI_TIDAK_VALID\]",
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


async def test_a_slow_answer_is_a_source_timeout() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1)
        return httpx.Response(200, json={})

    http = client(handler, timeout=0.05)
    with pytest.raises(SourceTimeout, match="0.05 s") as info:
        await http.request("GET", "/x", operation="op")
    await http.aclose()
    assert isinstance(info.value.__cause__, TimeoutError)


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
