"""Who is asking: the one `Principal` type every layer uses.

There is never a `None` caller: an unauthenticated request carries `ANONYMOUS`, a
principal with the `anonymous` role, so policy code needs no special case.
"""

from __future__ import annotations

from dataclasses import dataclass

ANONYMOUS_ROLE = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    department: str | None = None
    kelurahan: str | None = None  # 10-digit kelurahan code, for kelurahan officers
    nik: str | None = None  # for citizens
    scopes: frozenset[str] = frozenset()
    client_id: str | None = None  # service accounts and the token's client
    purpose: str | None = None  # a fixed purpose carried by a service-account token

    @property
    def is_anonymous(self) -> bool:
        return self.roles == frozenset({ANONYMOUS_ROLE})

    def has_role(self, role: str) -> bool:
        return role in self.roles


ANONYMOUS = Principal(subject="anonymous", roles=frozenset({ANONYMOUS_ROLE}))
