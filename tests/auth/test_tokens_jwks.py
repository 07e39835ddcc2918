"""Tokens checked against an issuer's JWKS over HTTP: caching, rotation, rate limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from auth.errors import AuthError, KeysUnavailable
from auth.issuer import DevelopmentIssuer
from auth.jwks import JWKSKeySource, StaticKeySource
from auth.tokens import TokenValidator

ISSUER = "https://sso.example.test/realms/simpul"
AUDIENCE = "simpul"
JWKS_URI = f"{ISSUER}/protocol/openid-connect/certs"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeIssuerServer:
    """Serves the issuer's current JWKS and counts the fetches."""

    def __init__(self, issuer: DevelopmentIssuer) -> None:
        self.issuer = issuer
        self.fetches = 0
        self.failing = False
        self.delay = 0.0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URI
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            return httpx.Response(503)
        return httpx.Response(200, json=self.issuer.jwks())


@pytest.fixture
def issuer() -> DevelopmentIssuer:
    return DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def server(issuer: DevelopmentIssuer) -> FakeIssuerServer:
    return FakeIssuerServer(issuer)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def source(server: FakeIssuerServer, clock: FakeClock) -> Any:
    async with JWKSKeySource(
        JWKS_URI,
        ttl=300,
        min_refresh_interval=30,
        transport=httpx.MockTransport(server),
        clock=clock,
    ) as source:
        yield source


@pytest.fixture
def validator(source: JWKSKeySource) -> TokenValidator:
    return TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=source)


def bearer(issuer: DevelopmentIssuer, subject: str = "officer") -> str:
    return "Bearer " + issuer.issue(subject=subject, roles=["population_officer"])


async def test_keys_are_fetched_once_and_cached(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator
) -> None:
    for _ in range(5):
        assert (await validator.authenticate(bearer(issuer))).subject == "officer"
    assert server.fetches == 1


async def test_cache_expires_after_ttl(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    await validator.authenticate(bearer(issuer))
    clock.now += 299
    await validator.authenticate(bearer(issuer))
    assert server.fetches == 1
    clock.now += 2
    await validator.authenticate(bearer(issuer))
    assert server.fetches == 2


async def test_rotated_key_is_picked_up_and_old_key_removal_invalidates(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    old_token = bearer(issuer, "old")
    assert (await validator.authenticate(old_token)).subject == "old"
    old_kid = issuer.current_kid

    clock.now += 31  # past the refresh rate limit, well within the TTL
    issuer.rotate()
    new_token = bearer(issuer, "new")
    assert (await validator.authenticate(new_token)).subject == "new"  # unknown kid → refresh
    assert server.fetches == 2
    assert (await validator.authenticate(old_token)).subject == "old"  # still published

    issuer.remove_key(old_kid)
    clock.now += 301  # the cache expires, the new set no longer has the old key
    with pytest.raises(AuthError, match="unknown key"):
        await validator.authenticate(old_token)
    assert (await validator.authenticate(new_token)).subject == "new"


async def test_unknown_kids_cannot_hammer_the_issuer(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    await validator.authenticate(bearer(issuer))
    stranger = ECKey.generate_key("P-256", private=True)
    for n in range(50):
        garbage = jws.serialize_compact(
            {"alg": "ES256", "kid": f"garbage-{n}"},
            json.dumps({"iss": ISSUER, "aud": AUDIENCE, "exp": 2**31, "sub": "x"}),
            stranger,
            algorithms=["ES256"],
        )
        with pytest.raises(AuthError, match="unknown key"):
            await validator.authenticate(f"Bearer {garbage}")
    assert server.fetches == 1  # the first fetch was less than 30 s ago
    clock.now += 30
    with pytest.raises(AuthError):
        await validator.authenticate(f"Bearer {garbage}")
    assert server.fetches == 2  # one more refresh once the interval has passed


async def test_concurrent_requests_share_one_fetch(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator
) -> None:
    server.delay = 0.05
    tokens = [bearer(issuer, f"user-{n}") for n in range(20)]
    principals = await asyncio.gather(*(validator.authenticate(t) for t in tokens))
    assert [p.subject for p in principals] == [f"user-{n}" for n in range(20)]
    assert server.fetches == 1


async def test_unreachable_issuer_without_cached_keys_is_unauthenticated(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator
) -> None:
    server.failing = True
    with pytest.raises(KeysUnavailable) as caught:
        await validator.authenticate(bearer(issuer))
    assert caught.value.code == "UNAUTHENTICATED"


async def test_failed_refresh_keeps_serving_the_last_good_keys(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    await validator.authenticate(bearer(issuer))
    server.failing = True
    clock.now += 400  # expired: a refresh is attempted and fails
    assert (await validator.authenticate(bearer(issuer))).subject == "officer"
    assert server.fetches == 2


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(200, text="<html>"), id="not-json"),
        pytest.param(httpx.Response(200, json={"keys": "nope"}), id="keys-not-a-list"),
        pytest.param(httpx.Response(200, json={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), id="symmetric-key"),
        pytest.param(httpx.Response(404), id="not-found"),
    ],
)
async def test_bad_jwks_documents_are_refused(issuer: DevelopmentIssuer, response: httpx.Response) -> None:
    async with JWKSKeySource(JWKS_URI, transport=httpx.MockTransport(lambda r: response)) as source:
        validator = TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=source)
        with pytest.raises(KeysUnavailable):
            await validator.authenticate(bearer(issuer))


def test_jwks_uri_must_be_http() -> None:
    with pytest.raises(ValueError, match="jwks_uri"):
        JWKSKeySource("file:///etc/passwd")


def test_static_source_refuses_private_keys(issuer: DevelopmentIssuer) -> None:
    private = {"keys": [issuer.signing_key_set().keys[0].as_dict(private=True)]}
    with pytest.raises(ValueError, match="public keys only"):
        StaticKeySource(private)
