"""The policy's persisted-only rule: per role (every role a principal holds must say so)
and per token client."""

from __future__ import annotations

from typing import Any

import pytest

from auth.policy import PolicyError, parse_policy
from auth.principal import Principal

CATALOGUE = {"Query": frozenset({"me"})}


def policy(**top: Any) -> Any:
    data: dict[str, Any] = {
        "version": 1,
        "roles": {
            "anonymous": {"query": ["me"]},
            "dashboard": {"query": ["me"], "persisted_only": True},
            "clerk": {"query": ["me"]},
            "dashboard_plus": {"query": ["me"], "extends": ["dashboard"]},
        },
        **top,
    }
    return parse_policy(data, catalogue=CATALOGUE, kinds={})


def caller(*roles: str, client: str | None = None) -> Principal:
    return Principal(subject="s", roles=frozenset(roles), client_id=client)


@pytest.mark.parametrize(
    ("principal", "held"),
    [
        pytest.param(caller("dashboard"), True, id="persisted-only-role"),
        pytest.param(caller("clerk"), False, id="other-role"),
        pytest.param(caller("dashboard", "clerk"), False, id="another-role-allows-ad-hoc"),
        pytest.param(caller("dashboard", "no-such-role"), True, id="unknown-roles-grant-nothing"),
        pytest.param(caller("dashboard_plus"), False, id="extending-is-not-holding-the-rule"),
        pytest.param(caller("clerk", client="svc-frozen"), True, id="persisted-only-client"),
        pytest.param(caller("clerk", client="svc-other"), False, id="other-client"),
        pytest.param(caller("anonymous"), False, id="anonymous"),
    ],
)
def test_who_is_held_to_pushed_operations(principal: Principal, held: bool) -> None:
    assert policy(persisted_only_clients=["svc-frozen"]).persisted_only(principal) is held


def test_the_anonymous_caller_can_be_held_to_pushed_operations() -> None:
    """A principal holding no known role is judged as the anonymous caller."""
    assert not policy().persisted_only(caller("nobody-known"))
    data = {"version": 1, "roles": {"anonymous": {"query": ["me"], "persisted_only": True}}}
    assert parse_policy(data, catalogue=CATALOGUE, kinds={}).persisted_only(caller("nobody-known"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"persisted_only_clients": "svc"}, None, id="a-name-is-a-list"),
        pytest.param({"persisted_only_clients": [""]}, "persisted_only_clients", id="empty-name"),
        pytest.param({"persisted_only_clients": {"a": 1}}, "persisted_only_clients", id="mapping"),
    ],
)
def test_persisted_only_clients_are_names(change: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert policy(**change).persisted_only_clients == frozenset({"svc"})
    else:
        with pytest.raises(PolicyError, match=message):
            policy(**change)


def test_persisted_only_must_be_true_or_false() -> None:
    data = {"version": 1, "roles": {"anonymous": {"query": ["me"], "persisted_only": "yes"}}}
    with pytest.raises(PolicyError, match="persisted_only"):
        parse_policy(data, catalogue=CATALOGUE, kinds={})
