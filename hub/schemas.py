"""The schemas a hub serves: the policy checked against the full schema, and one schema
per role set built from it."""

from __future__ import annotations

from auth.policy import Policy, PolicyError, load_policy
from auth.purposes import PurposeRegistry, load_purposes
from hub.settings import ConfigError, Settings
from schema.access import catalogue_of
from schema.build import RoleSchema, build_role_schema, build_schema


class SchemaSet:
    """The full schema once, and each role set's schema built on first use."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.full = build_schema()
        self._by_roles: dict[frozenset[str], RoleSchema] = {}

    def for_roles(self, roles: frozenset[str]) -> RoleSchema:
        schema = self._by_roles.get(roles)
        if schema is None:
            schema = self._by_roles[roles] = build_role_schema(self.full, self.policy, roles)
        return schema


def load_access(settings: Settings) -> tuple[Policy, PurposeRegistry]:
    """The policy and purposes, validated against the schema: a broken file stops the start."""
    try:
        policy = load_policy(settings.policy_file, catalogue=catalogue_of(build_schema()._schema))
        purposes = load_purposes(settings.purposes_file)
    except PolicyError as exc:
        raise ConfigError(str(exc)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the policy or purposes file: {exc}") from exc
    return policy, purposes


def role_sdl(policy: Policy, role: str | None) -> str:
    schemas = SchemaSet(policy)
    schema = schemas.full if role is None else schemas.for_roles(frozenset({role}))
    return schema.as_str()
