"""`hub check`: what a deployment pipeline asks before it lets a release take traffic.

One line per check, in this order; the exit code is the first failing check's:

    check           fails when                                                   exit
    configuration   the file or environment is invalid, a source is unconfigured    2
    policy          the policy or purposes file does not load and validate          3
    issuer          the hub's signing keys are unreadable or do not sign and        4
                    verify, the claims mapping is invalid, or the external
                    identity provider's JWKS cannot be fetched
    store           the store cannot be reached, is from a newer release, or is     5
                    behind while `store_migrations = "refuse"`
    source <id>     a source does not answer its health check in time               6
    redis           `redis_url` is set and Redis does not answer PING               7

0 when nothing failed. A `warn` line (a store behind that the next start migrates, no
signing key yet) does not fail the check; `skip` says a check could not or need not run.
Nothing is created or changed: not the store, not its SQLite file, not the keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from joserfc import jwt

from auth.claims import ClaimMapping
from auth.issuer import KEY_FILE, DevelopmentIssuer
from auth.jwks import JWKSKeySource, KeysUnavailable
from auth.policy import Policy
from hub.environment import build_sources
from hub.identity import ISSUER_DIR
from hub.migrations import store_revision
from hub.schemas import load_access
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine
from schema.types.system import probe

Status = Literal["ok", "warn", "fail", "skip"]

EXIT_CODES = {"configuration": 2, "policy": 3, "issuer": 4, "store": 5, "source": 6, "redis": 7}


@dataclass(frozen=True)
class CheckResult:
    check: str  # "configuration", "policy", "issuer", "store", "source <id>", "redis"
    status: Status
    detail: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.check.split()[0]] if self.status == "fail" else 0

    def line(self) -> str:
        """One line, whatever the detail (pydantic's errors span several; their links are dropped)."""
        parts = [p.strip() for p in self.detail.splitlines() if p.strip() and not p.strip().startswith("For further")]
        return f"{self.status:<4}  {self.check:<20} {'; '.join(parts)}"


def _failure(exc: BaseException) -> str:
    """An exception as one line, without a URL's password (drivers do not print it)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _print(result: CheckResult) -> None:
    print(result.line(), flush=True)


async def run_checks(
    load: Callable[[], Settings], *, timeout: float = 5.0, report: Callable[[CheckResult], None] = _print
) -> int:
    """Run every check, `report` each result as it comes, and return the exit code."""
    results: list[CheckResult] = []

    def add(result: CheckResult) -> None:
        results.append(result)
        report(result)

    try:
        settings = load()
        sources = build_sources(settings)
    except ConfigError as exc:
        add(CheckResult("configuration", "fail", str(exc)))
        for name in ("policy", "issuer", "store", "source", "redis"):
            add(CheckResult(name, "skip", "the configuration did not load"))
        return _exit(results)
    add(CheckResult("configuration", "ok", f"data directory {settings.data_dir}"))
    try:
        try:
            policy, purposes = load_access(settings)
        except ConfigError as exc:
            add(CheckResult("policy", "fail", str(exc)))
            policy = None
        else:
            add(CheckResult("policy", "ok", f"{policy.source}: {len(policy.roles)} roles, "
                                            f"{len(purposes.purposes)} purposes"))
        for result in await check_issuer(settings, policy, timeout=timeout):
            add(result)
        add(await check_store(settings, timeout=timeout))
        for state in await asyncio.gather(*(probe(source, timeout=timeout) for source in sources.all())):
            if state.up:
                add(CheckResult(f"source {state.source}", "ok", f"answered in {state.response_ms} ms"))
            else:
                add(CheckResult(f"source {state.source}", "fail", state.detail or state.state))
        add(await check_redis(settings, timeout=timeout))
    finally:
        for source in sources.all():
            await source.aclose()
    return _exit(results)


def _exit(results: list[CheckResult]) -> int:
    return next((r.exit_code for r in results if r.exit_code), 0)


async def check_issuer(settings: Settings, policy: Policy | None, *, timeout: float) -> list[CheckResult]:
    results = [_check_hub_keys(settings)]
    config = settings.issuer
    if policy is not None:
        try:
            ClaimMapping.from_overrides(config.claims, known_roles=policy.grantable_roles)
        except ValueError as exc:
            results.append(CheckResult("issuer", "fail", f"issuer.claims: {exc}"))
    if config.jwks_uri or config.external_issuer:
        results.append(await _check_external(settings, timeout=timeout))
    return results


def _check_hub_keys(settings: Settings) -> CheckResult:
    """The hub's own keys sign a token that their public keys then verify."""
    directory = settings.data_dir / ISSUER_DIR
    if not (directory / KEY_FILE).exists():
        return CheckResult("issuer", "warn", f"no signing key in {directory} yet: the first start creates one "
                                              "(instances must share it)")
    try:
        issuer = DevelopmentIssuer.load_or_create(directory, issuer=settings.issuer.hub_issuer,
                                                  audience=settings.issuer.audience)
        token = issuer.sign({"iss": settings.issuer.hub_issuer, "sub": "hub-check"})
        jwt.decode(token, issuer.public_key_set(), algorithms=["ES256"])
    except Exception as exc:  # an unreadable or malformed key file, whatever the parser raised
        return CheckResult("issuer", "fail", f"the hub's signing keys ({directory / KEY_FILE}): {_failure(exc)}")
    return CheckResult("issuer", "ok", f"hub keys sign and verify (current {issuer.current_kid}, "
                                       f"{len(issuer.kids)} published)")


async def _check_external(settings: Settings, *, timeout: float) -> CheckResult:
    config = settings.issuer
    if not (config.jwks_uri and config.external_issuer):
        return CheckResult("issuer", "fail", "issuer.external_issuer and issuer.jwks_uri go together")
    try:
        source = JWKSKeySource(config.jwks_uri, timeout=timeout)
    except ValueError as exc:
        return CheckResult("issuer", "fail", str(exc))
    try:
        keys = await source.key_set(None)
    except KeysUnavailable:
        return CheckResult("issuer", "fail", f"the identity provider's keys ({config.jwks_uri}) cannot be fetched")
    finally:
        await source.aclose()
    if not keys.keys:
        return CheckResult("issuer", "fail", f"{config.jwks_uri} holds no keys")
    return CheckResult("issuer", "ok", f"{config.external_issuer}: {len(keys.keys)} key(s) from {config.jwks_uri}")


async def check_store(settings: Settings, *, timeout: float) -> CheckResult:
    file = settings.sqlite_store_file
    if file is not None and not file.exists():
        return CheckResult("store", "warn", f"no store at {file} yet: the first start creates it")
    engine = create_store_engine(settings.resolved_store_url)
    try:
        async with asyncio.timeout(timeout):
            revision = await store_revision(engine)
    except Exception as exc:  # the driver's connection errors, a timeout
        return CheckResult("store", "fail", f"cannot read the store: {_failure(exc)}")
    finally:
        await engine.dispose()
    where = f"at revision {revision.current or '(none)'}, head {revision.head}"
    if revision.state == "current":
        return CheckResult("store", "ok", f"revision {revision.head} (current)")
    if revision.state == "ahead":
        return CheckResult("store", "fail", f"{where}: migrated by a newer release")
    if settings.store_migrations == "upgrade":
        return CheckResult("store", "warn", f"behind ({where}): the next start migrates it")
    return CheckResult("store", "fail", f"behind ({where}): run `hub migrate`")


async def check_redis(settings: Settings, *, timeout: float) -> CheckResult:
    if settings.redis_url is None:
        return CheckResult("redis", "skip", "redis_url not set: rate limits and revocations stay in-process")
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    started = time.perf_counter()
    try:
        await client.ping()  # type: ignore[misc]  # redis-py types it as sync or async
    except Exception as exc:  # connection refused, authentication, timeout
        return CheckResult("redis", "fail", f"no answer to PING: {_failure(exc)}")
    finally:
        await client.aclose()
    return CheckResult("redis", "ok", f"PING answered in {(time.perf_counter() - started) * 1000:.1f} ms")
