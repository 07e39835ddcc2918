"""The schemas a hub serves: the policy checked against the full schema, and one schema
per role set built from it."""

from __future__ import annotations

from collections.abc import Iterable

from cachetools import LRUCache

from auth.policy import Policy, PolicyError, load_policy
from auth.principal import ANONYMOUS_ROLE
from auth.purposes import PurposeRegistry, load_purposes
from hub.settings import ConfigError, Settings
from schema.access import catalogue_of
from schema.analytics.metrics_scope import KELURAHAN_ROLE, REGION_WIDE
from schema.build import RoleSchema, build_role_schema, build_schema
from schema.extensions.source_trace import OPERATOR_ROLE
from schema.plugins import policy_fragments
from schema.value_kinds import value_kinds


#: role sets whose schema is kept (each is built on its first request); a hub sees a handful
ROLE_SETS_KEPT = 32


class SchemaSet:
    """The full schema once, and each role set's schema built on first use.

    Schemas are keyed by `role_set`, the roles as the policy sees them (unknown roles
    dropped, `extends` expanded), so roles that grant nothing cannot make new schemas,
    and at most `ROLE_SETS_KEPT` are kept (least recently used first out)."""

    def __init__(self, policy: Policy, *, federation: bool = False) -> None:
        self.policy = policy
        self.full = build_schema(federation=federation)
        self._by_roles: LRUCache[frozenset[str], RoleSchema] = LRUCache(ROLE_SETS_KEPT)

    def role_set(self, roles: Iterable[str]) -> frozenset[str]:
        """The known roles among `roles` with those they extend; a principal with none
        (the token boundary refuses such tokens) gets no more than the anonymous caller."""
        return self.policy.expand(roles) or self.policy.expand(ANONYMOUS_ROLE)

    def for_roles(self, roles: Iterable[str]) -> RoleSchema:
        key = self.role_set(roles)
        schema = self._by_roles.get(key)
        if schema is None:
            schema = self._by_roles[key] = build_role_schema(self.full, self.policy, key)
        return schema


#: the roles the code names (every other role is the policy file's alone)
ROLES_IN_CODE = frozenset({ANONYMOUS_ROLE, OPERATOR_ROLE, KELURAHAN_ROLE, *(r for rs in REGION_WIDE.values() for r in rs)})


def load_access(settings: Settings) -> tuple[Policy, PurposeRegistry]:
    """The policy and purposes, validated against the schema: a broken file stops the start."""
    try:
        catalogue = catalogue_of(build_schema()._schema)
        policy = load_policy(
            settings.policy_file, catalogue=catalogue, kinds=value_kinds(catalogue), required=ROLES_IN_CODE,
            fragments=policy_fragments(),
        )
        purposes = load_purposes(settings.purposes_file, roles=policy.roles)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the policy or purposes file: {exc}") from exc
    return policy, purposes


def require_grantable(policy: Policy, roles: Iterable[str]) -> list[str]:
    """`roles` if a token or service account may carry each of them, else `ConfigError`
    naming the ones the policy knows (for `hub token` and `hub client add`)."""
    roles = list(roles)
    unknown = [role for role in roles if role not in policy.grantable_roles]
    if unknown:
        raise ConfigError(
            f"unknown role(s) {', '.join(map(repr, unknown))}; the policy ({policy.source}) "
            f"knows: {', '.join(sorted(policy.grantable_roles))}"
        )
    return roles


def role_sdl(policy: Policy, role: str | None, *, federation: bool = False) -> str:
    schemas = SchemaSet(policy, federation=federation)
    schema = schemas.full if role is None else schemas.for_roles(frozenset({role}))
    return schema.as_str()
