"""`RowScope.exact`: whether a listing filtered by the scope holds exactly the rows the
policy allows (issue 21: only then may its count and pages come from the source)."""

from __future__ import annotations

from auth.policy import RowScope

KEL_A = RowScope(kelurahan_codes=("A",))
KEL_B = RowScope(kelurahan_codes=("B",))
OWN = RowScope(applicant_niks=("1",))
PUBLIC_IN_A = RowScope(kelurahan_codes=("A",), visibilities=("PUBLIC",))


def test_the_union_of_two_values_of_one_attribute_is_exact() -> None:
    both = KEL_A.cover(KEL_B)
    assert both == RowScope(kelurahan_codes=("A", "B")) and both.exact


def test_a_scope_covering_one_it_holds_is_exact() -> None:
    assert KEL_A.cover(PUBLIC_IN_A).exact and PUBLIC_IN_A.cover(KEL_A).exact
    assert RowScope.all().cover(OWN).exact


def test_rows_of_two_attributes_are_no_conjunction() -> None:
    either = KEL_A.cover(OWN)
    assert either == RowScope.all() and not either.exact


def test_inexactness_survives_combination() -> None:
    wide = KEL_A.widened()
    assert not wide.cover(KEL_A).exact and not KEL_A.cover(wide).exact
    assert not wide.intersect(PUBLIC_IN_A).exact
    assert not RowScope.none().widened().cover(KEL_A).exact
    assert RowScope.none().widened().cover(KEL_A) == KEL_A  # the rows stay those of KEL_A
    assert RowScope.none().cover(KEL_A).exact


def test_an_empty_intersection_of_exact_scopes_is_exactly_nothing() -> None:
    nothing = KEL_A.intersect(KEL_B)
    assert nothing.empty and nothing.exact
