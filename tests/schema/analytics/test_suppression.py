"""Small-count suppression: no shown figure reveals a group of 1 to k-1 cases, directly
or by subtraction from shown figures."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.analytics.report import APPLICATION_PARTITIONS, COMPLAINT_PARTITIONS
from schema.analytics.suppression import Partition, Row, suppress_row, suppress_table

K = 5
STATE = (Partition("state", "total", ("finished", "backlog")),)


def row(key: str | None, finished: int, backlog: int) -> Row:
    return Row(key, {"total": finished + backlog, "finished": finished, "backlog": backlog})


def test_a_group_below_the_minimum_is_suppressed_whole() -> None:
    r = suppress_row(row("IUMK", 3, 1), STATE, K)
    assert r.suppressed and not r.shows("total", STATE) and not r.shows("finished", STATE)


def test_a_small_part_hides_every_part_of_its_breakdown_but_not_the_total() -> None:
    r = suppress_row(row("PBG", 20, 2), STATE, K)
    assert not r.suppressed
    assert r.shows("total", STATE)
    assert not r.shows("finished", STATE) and not r.shows("backlog", STATE)


def test_zero_is_shown() -> None:
    r = suppress_row(row("PBG", 20, 0), STATE, K)
    assert r.shows("finished", STATE) and r.shows("backlog", STATE)


def test_a_hidden_part_hides_the_breakdowns_below_it() -> None:
    counts = {"total": 30, "finished": 28, "backlog": 2, "overdue": 0, "open_in_time": 2,
              "on_time": 20, "late": 8, "untimed": 0}
    r = suppress_row(Row("X", counts), APPLICATION_PARTITIONS, K)
    assert r.hidden == {"state", "open", "timeliness"}


def test_one_suppressed_row_takes_the_smallest_other_row_with_it() -> None:
    overall = row(None, 40, 10)
    rows = [row("A", 2, 1), row("B", 20, 6), row("C", 12, 0), row("D", 6, 3)]
    suppress_table(overall, rows, STATE, K)
    assert [r.key for r in rows if r.suppressed] == ["A", "D"]
    assert overall.shows("total", STATE)


def test_one_hidden_breakdown_is_hidden_in_a_second_row_too() -> None:
    overall = row(None, 60, 14)
    rows = [row("A", 28, 2), row("B", 20, 6), row("C", 12, 6)]
    suppress_table(overall, rows, STATE, K)
    hiding = [r.key for r in rows if not r.shows("backlog", STATE)]
    assert hiding == ["A", "C"]  # C has fewer cases than B


def test_with_no_partner_the_overall_row_hides_the_breakdown() -> None:
    overall = row(None, 28, 2)
    rows = [row("A", 28, 2)]
    suppress_table(overall, rows, STATE, K)
    assert not overall.shows("backlog", STATE)


def _derivable(overall: Row, rows: list[Row], partitions: tuple[Partition, ...]) -> set[tuple[str | None, str]]:
    """Every small (row, figure) an observer can pin down exactly from the shown figures
    and the sums the report implies (within a row and across rows): by linear algebra
    over all those equations at once (a cell is determined when its unit vector lies in
    the row space of the equations over the unknown cells)."""
    everyone = [overall, *rows]
    names = sorted({n for p in partitions for n in (p.parent, *p.parts)})
    cells = [(i, n) for i in range(len(everyone)) for n in names]
    unknown = [c for c in cells if _implicit(c[1]) or not everyone[c[0]].shows(c[1], partitions)]
    index = {c: j for j, c in enumerate(unknown)}
    equations: list[list[tuple[int, str]]] = []  # whole first, then its parts
    for i, r in enumerate(everyone):
        equations += [[(i, p.parent), *((i, part) for part in p.parts)] for p in partitions]
    for n in names:
        equations.append([(0, n), *((i, n) for i in range(1, len(everyone)))])
    matrix = []
    for whole, *parts in equations:
        vector = [Fraction(0)] * len(unknown)
        for cell, sign in [(whole, 1), *((p, -1) for p in parts)]:
            if cell in index:
                vector[index[cell]] += sign
        if any(vector):
            matrix.append(vector)
    basis = _echelon(matrix)
    found = {(everyone[i].key, n) for i, n in cells
             if (i, n) not in index and 0 < everyone[i].counts[n] < K}
    for (i, n), j in index.items():
        value = everyone[i].counts[n]
        if 0 < value < K and _in_span([Fraction(int(k == j)) for k in range(len(unknown))], basis):
            found.add((everyone[i].key, n))
    return found


def _echelon(matrix: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    basis: list[tuple[int, list[Fraction]]] = []  # (pivot column, row with 1 at the pivot)
    for vector in matrix:
        v = _reduce(list(vector), basis)
        pivot = next((k for k, x in enumerate(v) if x), None)
        if pivot is None:
            continue
        v = [x / v[pivot] for x in v]
        basis = [(p, [a - b * r[pivot] for a, b in zip(r, v)]) for p, r in basis]
        basis.append((pivot, v))
    return basis


def _reduce(v: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    for pivot, r in basis:
        if v[pivot]:
            factor = v[pivot]
            v = [a - factor * b for a, b in zip(v, r)]
    return v


def _in_span(v: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> bool:
    return not any(_reduce(v, basis))


def _implicit(name: str) -> bool:
    return name in {"open_in_time", "untimed", "verification_missed", "verification_pending",
                    "follow_up_missed", "follow_up_other"}


def _app_row(key: str, on_time: int, late: int, untimed: int, overdue: int, open_in_time: int) -> Row:
    finished = on_time + late + untimed
    backlog = overdue + open_in_time
    return Row(key, {"total": finished + backlog, "finished": finished, "backlog": backlog,
                     "overdue": overdue, "open_in_time": open_in_time, "on_time": on_time,
                     "late": late, "untimed": untimed})


def _sum_rows(rows: list[Row]) -> Row:
    names = rows[0].counts.keys()
    return Row(None, {n: sum(r.counts[n] for r in rows) for n in names})


counts = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 15, 40])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(counts, counts, counts, counts, counts), min_size=1, max_size=6))
def test_no_small_group_can_be_derived_from_a_suppressed_application_table(groups: list[tuple[int, ...]]) -> None:
    rows = [_app_row(f"G{i}", *g) for i, g in enumerate(groups)]
    overall = _sum_rows(rows)
    suppress_table(overall, rows, APPLICATION_PARTITIONS, K)
    assert _derivable(overall, rows, APPLICATION_PARTITIONS) == set()


def test_the_checker_finds_what_primary_suppression_alone_leaves_derivable() -> None:
    rows = [_app_row("A", 20, 0, 0, 2, 10), _app_row("B", 30, 6, 0, 8, 12)]
    overall = _sum_rows(rows)
    assert ("A", "overdue") in _derivable(overall, rows, APPLICATION_PARTITIONS)  # nothing hidden
    for r in (overall, *rows):
        suppress_row(r, APPLICATION_PARTITIONS, K)  # rules 1-2 only
    assert ("A", "overdue") in _derivable(overall, rows, APPLICATION_PARTITIONS)  # overall - B
    suppress_table(overall, rows, APPLICATION_PARTITIONS, K)  # rule 3 too
    assert _derivable(overall, rows, APPLICATION_PARTITIONS) == set()


def test_the_complaint_breakdowns_hide_a_small_missed_deadline() -> None:
    counts = {"total": 30, "finished": 10, "backlog": 20, "verified": 26, "verification_missed": 2,
              "verification_pending": 2, "followed_up": 10, "follow_up_missed": 0, "follow_up_other": 20}
    r = suppress_row(Row("Infrastruktur", counts), COMPLAINT_PARTITIONS, K)
    assert r.hidden == {"verification"}
    assert not r.shows("verified", COMPLAINT_PARTITIONS)
    assert r.shows("followed_up", COMPLAINT_PARTITIONS) and r.shows("finished", COMPLAINT_PARTITIONS)


@pytest.mark.parametrize(
    ("minimum", "row_shown", "backlog_shown"),
    [(1, True, True), (3, True, False), (9, True, False), (10, False, False)],
)
def test_the_minimum_is_configurable(minimum: int, row_shown: bool, backlog_shown: bool) -> None:
    r = suppress_row(row("A", 7, 2), STATE, minimum)  # 9 cases, 2 of them open
    assert (not r.suppressed, r.shows("backlog", STATE)) == (row_shown, backlog_shown)


def test_figures_claim_no_freshness_until_every_source_was_filled() -> None:
    from datetime import UTC, datetime

    from connectors.metrics.model import Freshness

    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert Freshness({"complaints": late}).as_of is None
    assert Freshness({"complaints": late, "licensing": early}).as_of == early
