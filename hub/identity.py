"""Which tokens the hub accepts: its own issuer's (service accounts, and development
tokens when enabled) and an external identity provider's, through its JWKS."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from auth.claims import ClaimMapping
from auth.issuer import DevelopmentIssuer
from auth.jwks import JWKSKeySource
from auth.principal import Principal
from auth.tokens import MultiIssuerValidator, TokenValidator
from hub.settings import ConfigError, Settings
from schema.cursors import derive_key

ISSUER_DIR = "issuer"


def hub_issuer(settings: Settings) -> DevelopmentIssuer:
    """The hub's own signing keys, kept in the data directory."""
    return DevelopmentIssuer.load_or_create(
        settings.data_dir / ISSUER_DIR,
        issuer=settings.issuer.hub_issuer,
        audience=settings.issuer.audience,
    )


def development_issuer(settings: Settings) -> DevelopmentIssuer:
    """The hub's issuer, for minting tokens for any role; refused unless enabled."""
    if not settings.issuer.development:
        raise ConfigError(
            "the development issuer is disabled; enable it with `[issuer] development = true` "
            "or SIMPUL_ISSUER__DEVELOPMENT=true (for demos and tests, never production)"
        )
    return hub_issuer(settings)


def cursor_key(settings: Settings, issuer: DevelopmentIssuer) -> bytes:
    """The key that seals cursors: from `cursor_secret` when configured, else from the
    hub issuer's current private key (kept in the data directory, shared by instances)."""
    if settings.cursor_secret is not None:
        secret = settings.cursor_secret.get_secret_value()
        if len(secret) < 16:
            raise ConfigError("cursor_secret: at least 16 characters")
        return derive_key(secret.encode())
    (signing,) = issuer.signing_key_set().keys
    return derive_key(str(signing.as_dict(private=True)["d"]).encode())


@dataclass
class Identity:
    """The authenticator of a running hub and what it owns."""

    issuer: DevelopmentIssuer
    validator: MultiIssuerValidator
    jwks_sources: list[JWKSKeySource] = field(default_factory=list)

    async def authenticate(self, header: str | None) -> Principal:
        return await self.validator.authenticate(header)

    async def aclose(self) -> None:
        for source in self.jwks_sources:
            await source.aclose()


def build_identity(
    settings: Settings, *, known_roles: Iterable[str], revoked: Callable[[str], bool] | None = None
) -> Identity:
    """The validators of the hub's own tokens and of the external identity provider's;
    both keep only `known_roles` (the policy's) of the roles a token carries.
    `revoked(client_id)`: whether a service account is revoked (hub.revocation); its
    tokens, which the hub issued, are then refused."""
    config = settings.issuer
    try:
        claims = ClaimMapping.from_overrides(config.claims, known_roles=known_roles)
    except ValueError as exc:
        raise ConfigError(f"issuer.claims: {exc}") from exc
    issuer = hub_issuer(settings)
    validators = [
        TokenValidator(
            issuer=config.hub_issuer,
            audience=config.audience,
            key_source=issuer.key_source(),
            algorithms=("ES256",),
            leeway=config.leeway_seconds,
            claims=ClaimMapping(known_roles=claims.known_roles),
            revoked=revoked,
        )
    ]
    sources: list[JWKSKeySource] = []
    if config.jwks_uri or config.external_issuer:
        if not (config.jwks_uri and config.external_issuer):
            raise ConfigError("issuer.external_issuer and issuer.jwks_uri go together")
        source = JWKSKeySource(config.jwks_uri)
        sources.append(source)
        validators.append(
            TokenValidator(
                issuer=config.external_issuer,
                audience=config.audience,
                key_source=source,
                algorithms=tuple(config.algorithms),
                leeway=config.leeway_seconds,
                claims=claims,
            )
        )
    try:
        validator = MultiIssuerValidator(validators)
    except ValueError as exc:
        raise ConfigError(f"issuer: {exc}") from exc
    return Identity(issuer=issuer, validator=validator, jwks_sources=sources)
