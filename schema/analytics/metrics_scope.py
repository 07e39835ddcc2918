"""Who may read which part of `serviceMetrics`, over which kelurahan: a pure decision.

From DESIGN.md's role table (aggregates column): population officers and analysts read
all figures; licensing officers the applications, complaint officers the complaints;
a kelurahan officer reads both, limited to its own kelurahan (a wider role of the same
principal lifts the limit for the part it covers). Everyone else reads neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.principal import Principal

APPLICATIONS = "applications"
COMPLAINTS = "complaints"

#: Roles that read a part for the whole region.
REGION_WIDE: dict[str, frozenset[str]] = {
    APPLICATIONS: frozenset({"population_officer", "licensing_officer", "analyst"}),
    COMPLAINTS: frozenset({"population_officer", "complaint_officer", "analyst"}),
}
KELURAHAN_ROLE = "kelurahan_officer"


@dataclass(frozen=True, slots=True)
class PartScope:
    allowed: bool
    kelurahan_codes: tuple[str, ...] | None = None  # None: the whole region

    def narrow(self, asked: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """The kelurahan filter to apply: what was asked, within what is allowed."""
        if self.kelurahan_codes is None:
            return asked
        if asked is None:
            return self.kelurahan_codes
        return tuple(code for code in asked if code in self.kelurahan_codes)


DENIED = PartScope(False)


def part_scope(principal: Principal, part: str) -> PartScope:
    if principal.roles & REGION_WIDE[part]:
        return PartScope(True)
    if principal.has_role(KELURAHAN_ROLE) and principal.kelurahan:
        return PartScope(True, (principal.kelurahan,))
    return DENIED
