"""Help texts that list what an option accepts: the roles and purposes of the policy
and purpose files shipped with the hub (a configured policy may differ: a command that
is given an unknown role or purpose answers with the configured ones)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from auth.principal import ANONYMOUS_ROLE


@cache
def _names(package: str, resource: str, key: str) -> tuple[str, ...]:
    try:
        data = yaml.safe_load(resources.files(package).joinpath(resource).read_text(encoding="utf-8"))
        return tuple(str(name) for name in (data or {}).get(key) or {})
    except (OSError, yaml.YAMLError):  # the help still prints, without the list
        return ()


def default_roles() -> tuple[str, ...]:
    """The roles a token or a service account may carry under the default policy."""
    return tuple(r for r in _names("auth", "default_policy.yaml", "roles") if r != ANONYMOUS_ROLE)


def default_purposes() -> tuple[str, ...]:
    return _names("auth", "default_purposes.yaml", "purposes")


def roles_help(what: str) -> str:
    listed = ", ".join(default_roles())
    return f"{what} (the default policy's roles: {listed}; a configured policy may name others)"


def purposes_help(what: str) -> str:
    listed = ", ".join(default_purposes())
    return f"{what} (the default purposes: {listed}; a configured purpose file may name others)"


__all__ = ["default_purposes", "default_roles", "purposes_help", "roles_help"]
