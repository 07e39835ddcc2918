"""Bearer token validation: every way a token can be wrong is refused with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from auth.claims import ClaimMapping
from auth.errors import AuthError, NoKnownRole
from auth.issuer import DevelopmentIssuer
from auth.jwks import StaticKeySource
from auth.principal import ANONYMOUS
from auth.tokens import MultiIssuerValidator, TokenValidator

ISSUER = "https://hub.example.test"
AUDIENCE = "simpul"


def b64(data: bytes | dict[str, Any] | list[Any]) -> str:
    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "officer-1",
        "iat": now,
        "exp": now + 600,
        "roles": ["population_officer"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def issuer() -> DevelopmentIssuer:
    return DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def validator(issuer: DevelopmentIssuer) -> TokenValidator:
    return TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source())


async def refused(validator: TokenValidator, header: str | None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await validator.authenticate(header)
    assert caught.value.code == "UNAUTHENTICATED"
    return caught.value


async def test_no_header_is_the_anonymous_caller(validator: TokenValidator) -> None:
    assert await validator.authenticate(None) is ANONYMOUS


async def test_issued_token_maps_to_a_principal(
    issuer: DevelopmentIssuer, validator: TokenValidator
) -> None:
    token = issuer.issue(
        subject="lurah-1",
        roles=["kelurahan_officer"],
        kelurahan="1471081001",
        department="kelurahan",
        scopes=["citizens:read", "reports:read"],
        purpose="population-service",
    )
    principal = await validator.authenticate(f"Bearer {token}")
    assert principal.subject == "lurah-1"
    assert principal.roles == frozenset({"kelurahan_officer"})
    assert principal.kelurahan == "1471081001"
    assert principal.department == "kelurahan"
    assert principal.scopes == frozenset({"citizens:read", "reports:read"})
    assert principal.purpose == "population-service"
    assert not principal.is_anonymous


async def test_scheme_is_case_insensitive(issuer: DevelopmentIssuer, validator: TokenValidator) -> None:
    token = issuer.issue(subject="a", roles=["analyst"])
    assert (await validator.authenticate(f"bearer  {token} ")).roles == {"analyst"}


async def test_unsigned_alg_none_token_is_refused(validator: TokenValidator) -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    error = await refused(validator, f"Bearer {token}")
    assert "algorithm" in error.reason


async def test_token_signed_by_another_key_with_the_same_kid_is_refused(
    issuer: DevelopmentIssuer, validator: TokenValidator
) -> None:
    stranger = ECKey.generate_key("P-256", private=True)
    header = {"alg": "ES256", "kid": issuer.current_kid}
    token = jws.serialize_compact(header, json.dumps(claims()), stranger, algorithms=["ES256"])
    error = await refused(validator, f"Bearer {token}")
    assert "signature" in error.reason


async def test_token_from_another_issuer_key_is_refused(validator: TokenValidator) -> None:
    impostor = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)
    token = impostor.issue(subject="x", roles=["population_officer"])
    error = await refused(validator, f"Bearer {token}")
    assert "unknown key" in error.reason


async def test_tampered_payload_is_refused(issuer: DevelopmentIssuer, validator: TokenValidator) -> None:
    header, _, signature = issuer.issue(subject="x", roles=["analyst"]).split(".")
    forged = claims(roles=["population_officer"])
    error = await refused(validator, f"Bearer {header}.{b64(forged)}.{signature}")
    assert "signature" in error.reason


@pytest.mark.parametrize("encoding", ["pem", "jwk"])
async def test_hmac_signed_with_the_public_key_is_refused(encoding: str) -> None:
    """Algorithm confusion: HS256 keyed with the issuer's published RSA public key."""
    rsa = RSAKey.generate_key(2048, private=True)
    rsa.ensure_kid()
    public = {**rsa.as_dict(private=False), "use": "sig"}
    validator = TokenValidator(
        issuer=ISSUER, audience=AUDIENCE, key_source=StaticKeySource({"keys": [public]})
    )
    secret = rsa.as_pem(private=False) if encoding == "pem" else json.dumps(public).encode()
    signing_input = f"{b64({'alg': 'HS256', 'kid': rsa.kid})}.{b64(claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    error = await refused(validator, f"Bearer {signing_input}.{b64(mac)}")
    assert "algorithm" in error.reason
    # the same claims properly signed with RS256 pass: the refusal is about the algorithm
    good = jws.serialize_compact(
        {"alg": "RS256", "kid": rsa.kid}, json.dumps(claims()), rsa, algorithms=["RS256"]
    )
    assert (await validator.authenticate(f"Bearer {good}")).subject == "officer-1"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"exp": int(time.time()) - 120}, "expired", id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, "not yet valid", id="not-yet-valid"),
        pytest.param({"iat": int(time.time()) + 600}, "future", id="issued-in-future"),
        pytest.param({"iss": "https://evil.example"}, "issuer", id="wrong-issuer"),
        pytest.param({"aud": "another-app"}, "audience", id="wrong-audience"),
        pytest.param({"aud": ["a", "b"]}, "audience", id="wrong-audience-list"),
        pytest.param({"exp": None}, "exp", id="no-expiry"),
        pytest.param({"aud": None}, "aud", id="no-audience"),
        pytest.param({"exp": "tomorrow"}, "'exp' is not a number", id="expiry-not-a-number"),
        # claims of the wrong type: a clear 401, never a 500
        pytest.param({"iss": [ISSUER]}, "'iss' is not a string", id="issuer-a-list"),
        pytest.param({"iss": {"url": ISSUER}}, "'iss' is not a string", id="issuer-an-object"),
        pytest.param({"iss": 7}, "'iss' is not a string", id="issuer-a-number"),
        pytest.param({"aud": 7}, "'aud' is not a string", id="audience-a-number"),
        pytest.param({"aud": {"simpul": True}}, "'aud' is not a string", id="audience-an-object"),
        pytest.param({"aud": [AUDIENCE, 7]}, "'aud' is not a string", id="audience-list-not-strings"),
        pytest.param({"sub": 7}, "'sub' is not a string", id="subject-a-number"),
        pytest.param({"sub": ["officer-1"]}, "'sub' is not a string", id="subject-a-list"),
        pytest.param({"sub": {"id": 1}}, "'sub' is not a string", id="subject-an-object"),
        pytest.param({"exp": [int(time.time()) + 600]}, "'exp' is not a number", id="expiry-a-list"),
        pytest.param({"exp": True}, "'exp' is not a number", id="expiry-a-boolean"),
        pytest.param({"exp": 10**400}, "'exp' is not a number", id="expiry-huge"),
        pytest.param({"exp": float("inf")}, "'exp' is not a number", id="expiry-infinite"),
        pytest.param({"nbf": "now"}, "'nbf' is not a number", id="not-before-text"),
        pytest.param({"nbf": {}}, "'nbf' is not a number", id="not-before-an-object"),
        pytest.param({"iat": "now"}, "'iat' is not a number", id="issued-at-text"),
        pytest.param({"iat": float("nan")}, "'iat' is not a number", id="issued-at-nan"),
        pytest.param({"roles": {"admin": True}}, "structure", id="roles-not-a-list"),
        pytest.param({"roles": [1, 2]}, "structure", id="roles-not-strings"),
        pytest.param({"roles": 7}, "structure", id="roles-a-number"),
        pytest.param({"roles": [["population_officer"]]}, "structure", id="roles-nested-list"),
        pytest.param({"roles": [{"name": "population_officer"}]}, "structure", id="roles-nested-object"),
        pytest.param({"sub": None}, "subject", id="no-subject"),
        pytest.param({"sub": ""}, "subject", id="empty-subject"),
        pytest.param({"nik": "1234"}, "nik", id="short-nik"),
        pytest.param({"nik": 1471080101900001}, "structure", id="nik-a-number"),
        pytest.param({"nik": "١٤٧١٠٨٠١٠١٩٠٠٠٠١"}, "nik", id="nik-in-arabic-indic-digits"),
        pytest.param({"nik": ["1471080101900001", "1471080101900002"]}, "structure", id="nik-two-values"),
        pytest.param({"kelurahan": 1471081001}, "structure", id="kelurahan-not-text"),
        pytest.param({"kelurahan": "simpang-baru"}, "10-digit", id="kelurahan-not-a-code"),
        pytest.param({"kelurahan": "١٤٧١٠٨١٠٠١"}, "10-digit", id="kelurahan-in-arabic-indic-digits"),
        pytest.param({"kelurahan": {"code": "1471081001"}}, "structure", id="kelurahan-an-object"),
        pytest.param({"department": "x" * 300}, "structure", id="department-too-long"),
        pytest.param({"scope": 42}, "scope", id="scope-not-text"),
        pytest.param({"scope": [["citizens:read"]]}, "scope", id="scope-nested"),
    ],
)
async def test_bad_claims_are_refused(
    issuer: DevelopmentIssuer, validator: TokenValidator, overrides: dict[str, Any], reason: str
) -> None:
    token = issuer.sign(claims(**overrides))
    error = await refused(validator, f"Bearer {token}")
    assert reason in error.reason


@pytest.mark.parametrize(
    "roles",
    [
        pytest.param(None, id="no-roles"),
        pytest.param([], id="empty-roles"),
        pytest.param(["anonymous"], id="only-anonymous-role"),
        pytest.param(["offline_access", "uma_authorization"], id="only-unknown-roles"),
    ],
)
async def test_a_valid_token_with_no_known_role_is_forbidden_not_anonymous(
    issuer: DevelopmentIssuer, roles: list[str] | None
) -> None:
    validator = TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(),
                               claims=ClaimMapping(known_roles=frozenset({"citizen", "analyst"})))
    with pytest.raises(NoKnownRole) as caught:
        await validator.authenticate(f"Bearer {issuer.sign(claims(roles=roles))}")
    assert caught.value.code == "FORBIDDEN"
    assert 'error="insufficient_scope"' in caught.value.get_headers()["WWW-Authenticate"]


async def test_a_deeply_nested_payload_is_malformed_not_a_crash(validator: TokenValidator) -> None:
    nested = b'{"iss": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    error = await refused(validator, f"Bearer {b64({'alg': 'ES256'})}.{b64(nested)}.c2ln")
    assert "malformed" in error.reason


async def test_small_clock_skew_is_tolerated(issuer: DevelopmentIssuer, validator: TokenValidator) -> None:
    now = int(time.time())
    token = issuer.sign(claims(exp=now - 10, nbf=now + 10))
    assert (await validator.authenticate(f"Bearer {token}")).subject == "officer-1"


async def test_leeway_is_configurable(issuer: DevelopmentIssuer) -> None:
    strict = TokenValidator(
        issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(), leeway=0
    )
    token = issuer.sign(claims(exp=int(time.time()) - 10))
    assert "expired" in (await refused(strict, f"Bearer {token}")).reason


async def test_unknown_kid_is_refused(issuer: DevelopmentIssuer, validator: TokenValidator) -> None:
    key = issuer.signing_key_set().keys[0]
    token = jws.serialize_compact(
        {"alg": "ES256", "kid": "no-such-key"}, json.dumps(claims()), key, algorithms=["ES256"]
    )
    assert "unknown key" in (await refused(validator, f"Bearer {token}")).reason


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
        pytest.param("Token abc.def.ghi", id="other-scheme"),
        pytest.param("abc.def.ghi", id="no-scheme"),
        pytest.param("", id="empty-header"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer    ", id="bearer-blank-token"),
        pytest.param("Bearer abc", id="one-part"),
        pytest.param("Bearer abc.def", id="two-parts"),
        pytest.param("Bearer a.b.c.d", id="four-parts"),
        pytest.param("Bearer !!!.@@@.###", id="bad-base64"),
        pytest.param(f"Bearer {b64(b'{not json')}.{b64(claims())}.c2ln", id="header-not-json"),
        pytest.param(f"Bearer {b64({'alg': 'ES256'})}.{b64(b'[1, 2]')}.c2ln", id="payload-not-object"),
        pytest.param(f"Bearer {b64({'alg': 'ES256'})}.{b64(b'nope')}.c2ln", id="payload-not-json"),
        pytest.param(f"Bearer {b64([1])}.{b64(claims())}.c2ln", id="header-not-object"),
        pytest.param(f"Bearer {b64({'typ': 'JWT'})}.{b64(claims())}.c2ln", id="no-alg"),
        pytest.param(f"Bearer {b64({'alg': 'ES256', 'kid': 7})}.{b64(claims())}.c2ln", id="kid-not-text"),
        pytest.param("Bearer " + "a" * 9000, id="oversized"),
        pytest.param("Bearer héllo.wörld.x", id="non-ascii"),
    ],
)
async def test_malformed_headers_are_refused(validator: TokenValidator, header: str) -> None:
    error = await refused(validator, header)
    assert error.reason
    assert "WWW-Authenticate" in error.get_headers()


async def test_bad_signature_bytes_are_refused(issuer: DevelopmentIssuer, validator: TokenValidator) -> None:
    header, payload, _ = issuer.issue(subject="x", roles=["analyst"]).split(".")
    await refused(validator, f"Bearer {header}.{payload}.{b64(b'short')}")
    await refused(validator, f"Bearer {header}.{payload}.")


async def test_keycloak_style_token_maps_without_code(issuer: DevelopmentIssuer) -> None:
    mapping = ClaimMapping.from_overrides(
        {"roles": "realm_access.roles,resource_access.simpul.roles", "department": "dept"},
        known_roles={"kelurahan_officer", "analyst"},
    )
    validator = TokenValidator(
        issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(), claims=mapping
    )
    token = issuer.sign(
        claims(
            roles=None,
            aud=["simpul", "account"],
            azp="simpul-web",
            scope="openid profile email",
            realm_access={"roles": ["offline_access", "default-roles-simpul", "kelurahan_officer"]},
            resource_access={"simpul": {"roles": ["analyst"]}},
            kelurahan=["1471081001"],
            dept="kelurahan-simpang-baru",
            preferred_username="budi",
        )
    )
    principal = await validator.authenticate(f"Bearer {token}")
    assert principal.roles == frozenset({"kelurahan_officer", "analyst"})
    assert principal.client_id == "simpul-web"
    assert principal.scopes == frozenset({"openid", "profile", "email"})
    assert principal.kelurahan == "1471081001"
    assert principal.department == "kelurahan-simpang-baru"


async def test_an_identity_providers_own_roles_are_dropped(issuer: DevelopmentIssuer) -> None:
    mapping = ClaimMapping.from_overrides({"roles": "realm_access.roles"}, known_roles={"citizen", "analyst"})
    validator = TokenValidator(
        issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(), claims=mapping
    )
    idp_roles = ["offline_access", "uma_authorization", "default-roles-simpul", "anonymous"]
    token = issuer.sign(claims(roles=None, nik="1471080101900001",
                               realm_access={"roles": [*idp_roles, "citizen"]}))
    assert (await validator.authenticate(f"Bearer {token}")).roles == frozenset({"citizen"})

    only_theirs = issuer.sign(claims(roles=None, realm_access={"roles": idp_roles}))
    with pytest.raises(NoKnownRole, match="no role this hub knows"):
        await validator.authenticate(f"Bearer {only_theirs}")


def test_unknown_claim_mapping_entry_fails_at_start() -> None:
    with pytest.raises(ValueError, match="unknown claim mapping"):
        ClaimMapping.from_overrides({"groups": "realm_access.roles"})


@pytest.mark.parametrize(
    "algorithms", [["HS256"], ["none"], [], ["RS256", "HS512"]], ids=["hs256", "none", "empty", "mixed"]
)
def test_symmetric_or_unsigned_algorithms_cannot_be_configured(
    issuer: DevelopmentIssuer, algorithms: list[str]
) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        TokenValidator(
            issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(), algorithms=algorithms
        )


async def test_multi_issuer_validator_routes_by_issuer(issuer: DevelopmentIssuer) -> None:
    other = DevelopmentIssuer.ephemeral(issuer="https://sso.example.test", audience=AUDIENCE)
    hub = MultiIssuerValidator(
        [
            TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source()),
            TokenValidator(
                issuer=other.issuer, audience=AUDIENCE, key_source=other.key_source()
            ),
        ]
    )
    assert await hub.authenticate(None) is ANONYMOUS
    mine = issuer.issue(subject="svc", roles=["analyst"])
    theirs = other.issue(subject="officer", roles=["population_officer"])
    assert (await hub.authenticate(f"Bearer {mine}")).subject == "svc"
    assert (await hub.authenticate(f"Bearer {theirs}")).subject == "officer"
    # a token claiming one issuer but signed by the other's key is still refused
    forged = other.sign(claims(iss=ISSUER))
    with pytest.raises(AuthError, match="unknown key"):
        await hub.authenticate(f"Bearer {forged}")
    stranger = DevelopmentIssuer.ephemeral(issuer="https://else.example", audience=AUDIENCE)
    with pytest.raises(AuthError, match="issuer"):
        await hub.authenticate(f"Bearer {stranger.issue(subject='x', roles=['analyst'])}")


# -- the cache of verified signatures ----------------------------------------------


async def test_a_remembered_token_is_refused_once_it_expires(issuer: DevelopmentIssuer) -> None:
    now = [int(time.time())]
    validator = TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source(),
                               clock=lambda: now[0], leeway=0)
    token = issuer.issue(subject="officer-1", roles=["population_officer"], ttl_seconds=60)
    for _ in range(2):  # verified, then served from the cache
        assert (await validator.authenticate(f"Bearer {token}")).subject == "officer-1"

    now[0] += 61

    assert "expired" in (await refused(validator, f"Bearer {token}")).reason


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_key_set(issuer: DevelopmentIssuer) -> None:
    keys = {"current": issuer.public_key_set()}
    validator = TokenValidator(issuer=ISSUER, audience=AUDIENCE,
                               key_source=StaticKeySource(lambda: keys["current"]))
    token = issuer.issue(subject="officer-1", roles=["population_officer"])
    assert (await validator.authenticate(f"Bearer {token}")).subject == "officer-1"

    keys["current"] = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE).public_key_set()

    assert "unknown key" in (await refused(validator, f"Bearer {token}")).reason


async def test_a_token_altered_after_a_good_one_was_remembered_is_still_checked(
    issuer: DevelopmentIssuer, validator: TokenValidator
) -> None:
    token = issuer.issue(subject="officer-1", roles=["population_officer"])
    await validator.authenticate(f"Bearer {token}")
    header, payload, signature = token.split(".")
    forged = b64(claims(sub="officer-1", roles=["auditor"]))

    await refused(validator, f"Bearer {header}.{forged}.{signature}")
    assert (await validator.authenticate(f"Bearer {token}")).roles == frozenset({"population_officer"})


async def test_a_remembered_token_through_several_issuers_is_checked_on_every_use(issuer: DevelopmentIssuer) -> None:
    now = [int(time.time())]
    keys = {"current": issuer.public_key_set()}
    other = DevelopmentIssuer.ephemeral(issuer="https://idp.example", audience=AUDIENCE)
    hub = MultiIssuerValidator([
        TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=StaticKeySource(lambda: keys["current"]),
                       clock=lambda: now[0], leeway=0),
        TokenValidator(issuer="https://idp.example", audience=AUDIENCE, key_source=other.key_source()),
    ])
    token = issuer.issue(subject="officer-1", roles=["population_officer"], ttl_seconds=60)
    first = await hub.authenticate(f"Bearer {token}")
    again = await hub.authenticate(f"Bearer {token}")
    assert again is first  # the mapped principal is kept with the verified token

    now[0] += 61
    assert "expired" in (await refused(hub, f"Bearer {token}")).reason  # type: ignore[arg-type]
    now[0] -= 61
    assert (await hub.authenticate(f"Bearer {token}")).subject == "officer-1"
    keys["current"] = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE).public_key_set()
    assert "unknown key" in (await refused(hub, f"Bearer {token}")).reason  # type: ignore[arg-type]


async def test_a_token_whose_claims_map_to_no_principal_is_refused_every_time(issuer: DevelopmentIssuer) -> None:
    hub = MultiIssuerValidator([TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source())])
    token = issuer.sign(claims(nik="not-a-nik"))
    for _ in range(2):
        assert "nik" in (await refused(hub, f"Bearer {token}")).reason  # type: ignore[arg-type]
