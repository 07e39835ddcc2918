"""The per-role-set schemas and views: keyed by the roles as the policy sees them
(unknown roles dropped, `extends` expanded), and bounded."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from auth.principal import Principal
from hub.graphql_view import RoleDispatcher
from hub.schemas import ROLE_SETS_KEPT, SchemaSet, load_access
from hub.settings import Settings


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> SchemaSet:
    policy, _ = load_access(Settings(data_dir=tmp_path_factory.mktemp("schemas")))
    return SchemaSet(policy)


def test_roles_the_policy_does_not_know_do_not_make_a_new_schema(schemas: SchemaSet) -> None:
    citizen = schemas.for_roles(frozenset({"citizen"}))
    assert schemas.for_roles(frozenset({"citizen", "offline_access", "uma_authorization"})) is citizen
    assert schemas.for_roles(frozenset({"citizen", "anonymous"})) is citizen  # citizen extends anonymous
    assert schemas.role_set({"citizen", "default-roles-simpul"}) == frozenset({"citizen", "anonymous"})


def test_a_role_set_with_no_known_role_gets_the_anonymous_schema(schemas: SchemaSet) -> None:
    assert schemas.for_roles(frozenset({"superuser"})) is schemas.for_roles(frozenset({"anonymous"}))


def test_the_schema_cache_is_bounded(schemas: SchemaSet) -> None:
    roles = sorted(schemas.policy.grantable_roles)
    role_sets = [frozenset(c) for n in (1, 2, 3) for c in itertools.combinations(roles, n)]
    assert len(role_sets) > ROLE_SETS_KEPT
    for role_set in role_sets[: ROLE_SETS_KEPT + 1]:
        schemas.for_roles(role_set)
    assert len(schemas._by_roles) == ROLE_SETS_KEPT


def test_the_dispatcher_keeps_one_bounded_view_per_known_role_set(schemas: SchemaSet) -> None:
    built: list[frozenset[str]] = []

    def build_view(roles: frozenset[str]) -> object:
        built.append(roles)
        return object()

    dispatcher = RoleDispatcher(build_view, role_set=schemas.role_set, kept=2)  # type: ignore[arg-type]
    view = dispatcher.view_for(Principal(subject="a", roles=frozenset({"analyst"})))
    assert dispatcher.view_for(Principal(subject="b", roles=frozenset({"analyst", "offline_access"}))) is view
    for extra in ("auditor", "operator", "citizen"):
        dispatcher.view_for(Principal(subject="c", roles=frozenset({extra})))
    assert built == [frozenset({"analyst"}), frozenset({"auditor"}), frozenset({"operator"}),
                     frozenset({"citizen", "anonymous"})]
    assert len(dispatcher._views) == 2
