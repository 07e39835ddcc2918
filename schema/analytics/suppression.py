"""Small-count suppression for published reports: pure functions over count tables.

The rule (k = the configured minimum group size, default 5):

1. A group (row) with 1 to k-1 cases is suppressed whole: every figure null.
2. In a shown row, figures come in partitions: a parent count equal to the sum of its
   parts, some parts published, some only derivable (implicit), e.g. applications
   `total = finished + backlog`, `backlog = overdue + open in time`, `finished = on time
   + late + without a complete file`. If any part holds 1 to k-1 cases, every part of
   that partition is suppressed, and so is every partition below a suppressed part.
   A part is therefore never the difference of shown figures.
3. Rows partition the overall row (each case lies in exactly one service, one kelurahan,
   one category). If exactly one row hides a partition (or is suppressed) while the
   overall row shows it, the same is hidden in the shown row with the fewest cases; if
   there is none, in the overall row. Repeated until no hidden figure is one unknown
   in a sum of shown figures.
4. A rate or percentile is shown only when the figures it is computed from are shown
   and its base holds at least k cases.

Zero is always publishable (it is no group of people); a suppressed figure is `null`
with `suppressed: true`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Partition:
    """`parent` = sum of `parts` (parts include implicit, never published ones)."""

    name: str
    parent: str
    parts: tuple[str, ...]


@dataclass(slots=True)
class Row:
    """The counts of one group; `hidden` collects suppressed partitions by name."""

    key: str | None
    counts: Mapping[str, int]
    suppressed: bool = False
    hidden: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return self.counts["total"]

    def shows(self, figure: str, partitions: Sequence[Partition]) -> bool:
        """Whether a count figure is published in this row."""
        if self.suppressed:
            return False
        return not any(p.name in self.hidden and figure in p.parts for p in partitions)

    def shows_partition(self, partition: Partition) -> bool:
        return not self.suppressed and partition.name not in self.hidden


def _small(count: int, minimum: int) -> bool:
    return 0 < count < minimum


def _hide(row: Row, partition: Partition, partitions: Sequence[Partition]) -> None:
    """Hide a partition and every partition below one of its parts."""
    if partition.name in row.hidden:
        return
    row.hidden.add(partition.name)
    for below in partitions:
        if below.parent in partition.parts:
            _hide(row, below, partitions)


def suppress_row(row: Row, partitions: Sequence[Partition], minimum: int) -> Row:
    """Rules 1 and 2 within one row."""
    if _small(row.total, minimum):
        row.suppressed = True
        return row
    for partition in partitions:
        if any(_small(row.counts[part], minimum) for part in partition.parts):
            _hide(row, partition, partitions)
    return row


def suppress_table(
    overall: Row, rows: Sequence[Row], partitions: Sequence[Partition], minimum: int
) -> None:
    """Rules 1-3 for an overall row and the rows that partition it (in place)."""
    suppress_row(overall, partitions, minimum)
    for row in rows:
        suppress_row(row, partitions, minimum)
    changed = True
    while changed:
        changed = False
        # whole rows: the totals of the rows add up to the overall total
        if not overall.suppressed and sum(1 for r in rows if r.suppressed and r.total) == 1:
            partner = _fewest(r for r in rows if not r.suppressed and r.total)
            if partner is not None:
                partner.suppressed = True
            else:
                overall.suppressed = True
            changed = True
        for partition in partitions:
            if not overall.shows_partition(partition):
                continue
            hiding = [r for r in rows if r.total and not r.shows_partition(partition)]
            if len(hiding) != 1:
                continue
            partner = _fewest(r for r in rows if r.total and r.shows_partition(partition))
            _hide(partner if partner is not None else overall, partition, partitions)
            changed = True


def _fewest(rows: Iterable[Row]) -> Row | None:
    candidates = list(rows)
    return min(candidates, key=lambda r: (r.total, str(r.key))) if candidates else None
