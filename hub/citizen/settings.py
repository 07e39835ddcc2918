"""`[citizen]` settings: the citizen page and the identity provider it signs residents
in with (OpenID Connect, authorization code with PKCE)."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class CitizenPageSettings(BaseModel):
    """The citizen page at `/warga`, off unless `enabled`.

    `metadata_url` is the identity provider's discovery document
    (`…/.well-known/openid-configuration`); the hub is registered there as `client_id` /
    `client_secret` with `redirect_uri` (`https://<hub>/warga/masuk/selesai`). The
    resident's NIK is read from the verified ID token's `nik_claim`. A session lives in
    the hub store (signing out ends it on every instance) for at most `session_seconds`,
    and ends after `session_idle_seconds` without a request; the browser's cookie holds
    its random id only, signed with `session_secret` (default: a secret kept in the data
    directory, the same for every instance that shares it), and is marked Secure when
    `redirect_uri` is https. `development_idp` serves a development identity provider at `/dev-idp` (it
    signs in any sample resident without a password): refused unless the issuer is in
    development mode and the hub listens on a loopback address; `hub demo` turns it on."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    metadata_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    nik_claim: str = "nik"
    scope: str = "openid profile"
    session_secret: SecretStr | None = None
    session_seconds: int = Field(default=2 * 3600, ge=60, le=7 * 86400)
    session_idle_seconds: int = Field(default=30 * 60, ge=60, le=7 * 86400)
    development_idp: bool = False

    @model_validator(mode="after")
    def _complete(self) -> CitizenPageSettings:
        if self.enabled:
            missing = [name for name in ("metadata_url", "client_id", "redirect_uri") if not getattr(self, name)]
            if missing:
                raise ValueError(f"citizen: the page needs {', '.join(missing)} (the identity provider)")
        if self.session_secret is not None and len(self.session_secret.get_secret_value()) < 32:
            raise ValueError("citizen.session_secret: at least 32 characters")
        return self

    @property
    def secure_cookie(self) -> bool:
        return (self.redirect_uri or "").startswith("https://")


class DevIdpRefused(ValueError):
    pass


def check_allowed(settings: CitizenPageSettings, *, development: bool, host: str) -> None:
    """Refuses the development identity provider outside development mode on a loopback host."""
    if not settings.development_idp:
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not development or not loopback:
        raise DevIdpRefused("citizen.development_idp signs anyone in without a password: it needs "
                            "`[issuer] development = true` and a loopback host (127.0.0.1); it is for "
                            "`hub demo` and tests only")
