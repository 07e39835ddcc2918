"""The error a broken policy or purpose file raises at start-up; its place in the auth
package's tree is drawn in auth.errors."""

from __future__ import annotations

from auth.errors import AuthPackageError


class PolicyError(AuthPackageError):
    """A policy (or purpose) file that cannot be used; the hub must not start.

    The message names the file, the role (or purpose) and the offending entry, e.g.
    ``default_policy.yaml: role 'analyst': types.Citizen.fields: unknown field 'nikk'``.
    """

    code = "POLICY_INVALID"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        role: str | None = None,
        entry: str | None = None,
    ) -> None:
        super().__init__(message, details={k: v for k, v in (("file", file), ("role", role), ("entry", entry)) if v})
        self.file = file
        self.role = role
        self.entry = entry
        parts = [p for p in (file, f"role {role!r}" if role else None, entry) if p]
        self.args = (": ".join([*parts, message]),)
