"""`hub token`: a token from the development issuer, refused when it would be a mistake.

- Roles: `--role` may be repeated; the token carries every role given (a principal
  with several roles gets their most permissive combination, as with any token).
  Roles the policy does not grant are refused, naming those it does.
- Claims: a role whose row rules read a claim (the kelurahan officer's
  `own_kelurahan` reads `kelurahan`, the citizen's own-record rules read `nik`) sees
  no row without it. Which claims are needed is derived from the policy
  (`required_claims`), not listed by hand: a claim is required when, for some type,
  the rows the roles may list are none without it and some with it. The kelurahan
  must be one of the region's.
- Without a configuration the command says where it looked.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable

from auth.policy import Policy
from auth.principal import Principal
from hub.cli_config import ConfigLookup
from hub.identity import development_issuer
from hub.schemas import load_access, require_grantable
from hub.settings import ConfigError, Settings

#: the claims a development token can carry: (Principal attribute, option, a well-formed value)
CLAIM_OPTIONS = {"kelurahan": ("--kelurahan CODE", "1471081001"), "nik": ("--nik NIK", "1471080101800001")}


def required_claims(policy: Policy, roles: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """claim -> the types whose rows a holder of `roles` could not list without it."""
    held = frozenset(roles)
    complete = Principal("probe", held, **{claim: value for claim, (_, value) in CLAIM_OPTIONS.items()})
    needed: dict[str, tuple[str, ...]] = {}
    for claim in CLAIM_OPTIONS:
        without = dataclasses.replace(complete, **{claim: None})
        types = tuple(sorted(
            t for t in policy.governed_types
            if not policy.row_scope(complete, t).empty and policy.row_scope(without, t).empty
        ))
        if types:
            needed[claim] = types
    return needed


def _check_claims(policy: Policy, roles: list[str], given: dict[str, str | None]) -> None:
    needed = required_claims(policy, roles)
    missing = [claim for claim in needed if not given.get(claim)]
    if missing:
        parts = [f"{CLAIM_OPTIONS[c][0]} (its row rules on {', '.join(needed[c])} read it)" for c in missing]
        raise ConfigError(
            f"{' and '.join(map(repr, roles))} needs {' and '.join(parts)}: "
            "without it the token would see no row"
        )


def _check_kelurahan(settings: Settings, code: str | None) -> None:
    if code is None:
        return
    from schema.region import load_region

    region = load_region(settings.resolved_region_file)
    if code not in region.kelurahan:
        known = ", ".join(f"{k} ({v.name})" for k, v in sorted(region.kelurahan.items()))
        raise ConfigError(f"--kelurahan {code[:20]!r} is not a kelurahan of this region; it has: {known}")


def run_token_command(settings: Settings, lookup: ConfigLookup, args: argparse.Namespace) -> int:
    try:
        issuer = development_issuer(settings)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; {lookup.describe()}") from exc
    policy = load_access(settings)[0]
    roles = require_grantable(policy, dict.fromkeys(args.roles))  # in order, once each
    _check_claims(policy, roles, {"kelurahan": args.kelurahan, "nik": args.nik})
    _check_kelurahan(settings, args.kelurahan)
    try:
        token = issuer.issue(
            subject=args.sub or "demo-" + "+".join(roles),
            roles=roles,
            ttl_seconds=args.ttl,
            kelurahan=args.kelurahan,
            nik=args.nik,
            department=args.department,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    print(token)
    return 0


__all__ = ["CLAIM_OPTIONS", "required_claims", "run_token_command"]
