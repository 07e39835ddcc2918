"""Which records belong to a case: the pure part of `schema.cases`."""

from __future__ import annotations

import pytest

from auth.purposes import CASE_KINDS
from schema.access import PERSONAL_FIELDS
from schema.cases import KINDS, PERSON_TYPES, Case

PERSON = "1471080101800001"
OTHER = "1471080101800004"
APPLICATION = Case("application", "503/DPMPTSP/2025/000001-X0", PERSON)
COMPLAINT = Case("complaint", "LPR-2025-0000Q", PERSON)


def test_every_case_kind_a_purpose_may_name_is_known() -> None:
    assert tuple(KINDS) == CASE_KINDS
    for kind in KINDS.values():
        assert kind.record_type in PERSONAL_FIELDS
    assert PERSON_TYPES <= set(PERSONAL_FIELDS)


@pytest.mark.parametrize(
    ("case", "type_name", "key", "covered"),
    [
        pytest.param(APPLICATION, "Application", APPLICATION.number, True, id="the-application"),
        pytest.param(APPLICATION, "Citizen", PERSON, True, id="its-applicant"),
        pytest.param(APPLICATION, "CitizenVerification", PERSON, True, id="verifying-its-applicant"),
        pytest.param(APPLICATION, "Application", "503/DPMPTSP/2025/000002-X1", False, id="another-application"),
        pytest.param(APPLICATION, "Citizen", OTHER, False, id="another-citizen"),
        pytest.param(APPLICATION, "CitizenVerification", OTHER, False, id="verifying-another-citizen"),
        pytest.param(APPLICATION, "Complaint", APPLICATION.number, False, id="a-complaint-of-the-same-number"),
        pytest.param(APPLICATION, "Family", "1471080101000001", False, id="the-applicants-family"),
        pytest.param(APPLICATION, "Citizen", None, False, id="no-key"),
        pytest.param(COMPLAINT, "Complaint", COMPLAINT.number, True, id="the-complaint"),
        pytest.param(COMPLAINT, "Citizen", PERSON, True, id="its-reporter"),
        pytest.param(COMPLAINT, "Complaint", "LPR-2025-0001Q", False, id="another-complaint"),
        pytest.param(COMPLAINT, "Application", COMPLAINT.number, False, id="an-application-of-the-same-number"),
        pytest.param(COMPLAINT, "Citizen", OTHER, False, id="another-reporter"),
        pytest.param(Case("complaint", "LPR-1", None), "Citizen", OTHER, False, id="anonymous-complaint"),
        pytest.param(Case("application", "503/1", None), "Citizen", None, False, id="company-without-nik"),
    ],
)
def test_a_case_covers_its_record_and_its_person_only(case: Case, type_name: str, key: str | None, covered: bool) -> None:
    assert case.covers(type_name, key) is covered


@pytest.mark.parametrize("type_name", sorted(PERSONAL_FIELDS))
def test_no_personal_type_is_covered_by_a_key_that_is_not_the_cases(type_name: str) -> None:
    for case in (APPLICATION, COMPLAINT):
        assert not case.covers(type_name, "not-a-key-of-the-case")
