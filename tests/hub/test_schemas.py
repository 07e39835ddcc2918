"""The per-role-set schemas and views: keyed by the roles as the policy sees them
(unknown roles dropped, `extends` expanded), and bounded."""

from __future__ import annotations

import copy
import itertools
from importlib import resources
from pathlib import Path

import pytest
import yaml

from auth.principal import Principal
from hub.graphql_view import RoleDispatcher
from hub.schemas import ROLE_SETS_KEPT, ROLES_IN_CODE, SchemaSet, load_access
from hub.settings import ConfigError, Settings


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


def test_purposes_are_checked_against_the_roles_of_the_loaded_policy(tmp_path: Path) -> None:
    purposes = tmp_path / "purposes.yaml"
    purposes.write_text(
        "version: 1\npurposes:\n  audit:\n    description: {id: Audit, en: Audit}\n    roles: [janitor]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown role 'janitor'"):
        load_access(Settings(data_dir=tmp_path, purposes_file=purposes))


def test_a_policy_without_a_role_the_code_names_stops_the_start(tmp_path: Path) -> None:
    shipped = yaml.safe_load((resources.files("auth") / "default_policy.yaml").read_text(encoding="utf-8"))
    for role in ROLES_IN_CODE:
        data = copy.deepcopy(shipped)
        del data["roles"][role]
        for body in data["roles"].values():  # nobody extends the removed role
            if isinstance(body, dict) and body.get("extends") in (role, [role]):
                del body["extends"]
        policy = tmp_path / f"policy-{role}.yaml"
        policy.write_text(yaml.safe_dump(data), encoding="utf-8")
        with pytest.raises(ConfigError, match=f"missing '{role}'"):
            load_access(Settings(data_dir=tmp_path, policy_file=policy))
