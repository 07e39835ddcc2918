"""Tokens checked against an issuer's JWKS over HTTP: caching, rotation, rate limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
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
        self.outage = OUTAGES["5xx"]  # how it fails while `failing`
        self.delay = 0.0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URI
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            return self.outage(request)
        return httpx.Response(200, json=self.issuer.jwks())


def _raise(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return fail


#: the ways an identity provider's key endpoint can be out of order
OUTAGES: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "unreachable": _raise(httpx.ConnectError),
    "timeout": _raise(httpx.ReadTimeout),
    "5xx": lambda request: httpx.Response(503),
    "500": lambda request: httpx.Response(500, text="Internal Server Error"),
    "garbage": lambda request: httpx.Response(200, text="<html>maintenance</html>"),
    "not-a-key-set": lambda request: httpx.Response(200, json={"keys": "nope"}),
    "deeply-nested": lambda request: httpx.Response(200, content=b"[" * 5000 + b"]" * 5000),
}


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


@pytest.mark.parametrize("outage", sorted(OUTAGES))
async def test_an_identity_provider_outage_is_503_with_retry_after_not_401(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, outage: str
) -> None:
    server.failing, server.outage = True, OUTAGES[outage]
    with pytest.raises(KeysUnavailable) as caught:
        await validator.authenticate(bearer(issuer))
    error = caught.value
    assert error.code == "IDENTITY_UNAVAILABLE"
    assert 1 <= error.retry_after <= 30
    assert error.get_headers() == {"Retry-After": str(error.retry_after)}  # no invalid_token challenge


async def test_an_outage_does_not_become_a_refresh_storm(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    server.failing = True
    for _ in range(20):
        with pytest.raises(KeysUnavailable):
            await validator.authenticate(bearer(issuer))
    assert server.fetches == 1  # the next attempt waits for the refresh interval
    clock.now += 25
    with pytest.raises(KeysUnavailable) as caught:
        await validator.authenticate(bearer(issuer))
    assert caught.value.retry_after == 5
    clock.now += 5
    server.failing = False
    assert (await validator.authenticate(bearer(issuer))).subject == "officer"
    assert server.fetches == 2


async def test_an_outage_after_expiry_does_not_become_a_refresh_storm(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    await validator.authenticate(bearer(issuer))
    server.failing = True
    clock.now += 400  # expired: refreshes fail; the last good keys keep serving
    for _ in range(20):
        assert (await validator.authenticate(bearer(issuer))).subject == "officer"
    assert server.fetches == 2


async def test_an_unknown_kid_is_401_after_a_successful_refresh_and_503_during_an_outage(
    issuer: DevelopmentIssuer, server: FakeIssuerServer, validator: TokenValidator, clock: FakeClock
) -> None:
    await validator.authenticate(bearer(issuer))
    stranger = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)
    unknown = "Bearer " + stranger.issue(subject="x", roles=["analyst"])
    clock.now += 31
    with pytest.raises(AuthError, match="unknown key") as caught:  # refreshed: the kid is not there
        await validator.authenticate(unknown)
    assert type(caught.value) is AuthError and caught.value.code == "UNAUTHENTICATED"
    assert server.fetches == 2

    server.failing = True
    clock.now += 31
    with pytest.raises(KeysUnavailable):  # may be a new key the issuer cannot show us now
        await validator.authenticate(unknown)
    assert (await validator.authenticate(bearer(issuer))).subject == "officer"  # known kids still work
    assert server.fetches == 3


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
