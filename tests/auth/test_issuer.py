"""The development issuer: persisted keys, round trips, rotation, input checks."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from auth.errors import AuthError
from auth.issuer import KEY_FILE, DevelopmentIssuer
from auth.tokens import TokenValidator

ISSUER = "simpul-dev"
AUDIENCE = "simpul"


def load(directory: Path) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(directory, issuer=ISSUER, audience=AUDIENCE)


def public_keys(issuer: DevelopmentIssuer) -> KeySet:
    return KeySet.import_key_set(issuer.jwks())  # type: ignore[arg-type]


def validator_for(issuer: DevelopmentIssuer) -> TokenValidator:
    return TokenValidator(issuer=ISSUER, audience=AUDIENCE, key_source=issuer.key_source())


async def test_issued_token_round_trips_through_the_validator(tmp_path: Path) -> None:
    issuer = load(tmp_path)
    token = issuer.issue(
        subject="warga-1",
        roles=["citizen"],
        nik="1471084506900001",
        ttl_seconds=120,
        client_id="portal",
        extra={"name": "Siti"},
    )
    principal = await validator_for(issuer).authenticate(f"Bearer {token}")
    assert principal.subject == "warga-1"
    assert principal.roles == frozenset({"citizen"})
    assert principal.nik == "1471084506900001"
    assert principal.client_id == "portal"

    decoded = jwt.decode(token, public_keys(issuer), algorithms=["ES256"])
    assert decoded.header["kid"] == issuer.current_kid
    assert decoded.header["alg"] == "ES256"
    assert decoded.claims["exp"] - decoded.claims["iat"] == 120
    assert decoded.claims["name"] == "Siti"


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "issuer"
    first = load(directory)
    path = directory / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load(directory)
    assert second.current_kid == first.current_kid
    assert second.jwks() == first.jwks()


def test_loose_key_file_permissions_are_tightened(tmp_path: Path) -> None:
    load(tmp_path)
    path = tmp_path / KEY_FILE
    path.chmod(0o644)
    load(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_jwks_holds_public_keys_only(tmp_path: Path) -> None:
    issuer = load(tmp_path)
    issuer.rotate()
    document = issuer.jwks()
    assert len(document["keys"]) == 2
    for key in document["keys"]:
        assert key["kty"] == "EC" and key["use"] == "sig" and key["alg"] == "ES256"
        assert "d" not in key
    assert {key["kid"] for key in document["keys"]} == set(issuer.kids)
    json.dumps(document)  # serialisable as is


async def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_removed(tmp_path: Path) -> None:
    issuer = load(tmp_path)
    validator = validator_for(issuer)
    old_kid = issuer.current_kid
    old_token = issuer.issue(subject="a", roles=["analyst"])

    new_kid = issuer.rotate()
    assert new_kid != old_kid and issuer.current_kid == new_kid
    new_token = issuer.issue(subject="b", roles=["analyst"])
    assert (await validator.authenticate(f"Bearer {old_token}")).subject == "a"
    assert (await validator.authenticate(f"Bearer {new_token}")).subject == "b"

    # rotation is persisted: another process loading the directory signs with the new key
    assert load(tmp_path).current_kid == new_kid

    issuer.remove_key(old_kid)
    with pytest.raises(AuthError, match="unknown key"):
        await validator.authenticate(f"Bearer {old_token}")
    assert (await validator.authenticate(f"Bearer {new_token}")).subject == "b"
    assert load(tmp_path).kids == [new_kid]


def test_current_key_cannot_be_removed(tmp_path: Path) -> None:
    issuer = load(tmp_path)
    with pytest.raises(ValueError, match="current"):
        issuer.remove_key(issuer.current_kid)
    with pytest.raises(ValueError, match="no key"):
        issuer.remove_key("nope")


def test_corrupt_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"roles": []}, "role", id="no-roles"),
        pytest.param({"roles": [""]}, "role", id="empty-role"),
        pytest.param({"roles": ["two words"]}, "role", id="role-with-space"),
        pytest.param({"subject": ""}, "subject", id="empty-subject"),
        pytest.param({"nik": "12345"}, "nik", id="short-nik"),
        pytest.param({"nik": "14710845069000AB"}, "nik", id="nik-with-letters"),
        pytest.param({"kelurahan": "14.71.08.1001"}, "kelurahan", id="dotted-kelurahan"),
        pytest.param({"ttl_seconds": 0}, "ttl", id="zero-ttl"),
        pytest.param({"ttl_seconds": 86400 * 30 + 1}, "ttl", id="ttl-too-long"),
        pytest.param({"ttl_seconds": 1.5}, "ttl", id="fractional-ttl"),
        pytest.param({"scopes": ["a b"]}, "scope", id="scope-with-space"),
        pytest.param({"extra": {"exp": 1}}, "override", id="extra-overrides-exp"),
    ],
)
def test_bad_issue_arguments_raise_clear_value_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    issuer = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)
    arguments: dict[str, object] = {"subject": "x", "roles": ["analyst"], **kwargs}
    with pytest.raises(ValueError, match=message):
        issuer.issue(**arguments)  # type: ignore[arg-type]


def test_single_role_may_be_given_as_a_string() -> None:
    issuer = DevelopmentIssuer.ephemeral(issuer=ISSUER, audience=AUDIENCE)
    token = issuer.issue(subject="x", roles="operator")
    claims = jwt.decode(token, public_keys(issuer), algorithms=["ES256"]).claims
    assert claims["roles"] == ["operator"]
    assert claims["exp"] > time.time()
