"""Every source code of every code table maps to a domain value and back."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import pytest

from connectors._codes import UnknownCode
from connectors.complaints import codes as complaint_codes
from connectors.licensing import codes as licensing_codes
from connectors.population import codes as population_codes
from connectors.records import (
    APPLICATION_FINISHED,
    COMPLAINT_FINISHED,
    ApplicantKind,
    ApplicationStatus,
    ComplaintChannel,
    ComplaintClassification,
    ComplaintStatus,
    ComplaintVisibility,
    FamilyRelationship,
    MaritalStatus,
    Religion,
    RequestKind,
    Sex,
)

TABLES = [
    pytest.param(
        population_codes.JENIS_KLMIN, population_codes.SEX_CODES, Sex, id="JENIS_KLMIN"
    ),
    pytest.param(
        population_codes.GOL_DRH, population_codes.BLOOD_TYPE_CODES, None, id="GOL_DRH"
    ),
    pytest.param(
        population_codes.AGAMA, population_codes.RELIGION_CODES, Religion, id="AGAMA"
    ),
    pytest.param(
        population_codes.STAT_KWN,
        population_codes.MARITAL_STATUS_CODES,
        MaritalStatus,
        id="STAT_KWN",
    ),
    pytest.param(
        population_codes.STAT_HBKEL,
        population_codes.RELATIONSHIP_CODES,
        FamilyRelationship,
        id="STAT_HBKEL",
    ),
    pytest.param(
        population_codes.PDDK_AKH, population_codes.EDUCATION_CODES, None, id="PDDK_AKH"
    ),
    pytest.param(
        population_codes.JENIS_PKRJN,
        population_codes.OCCUPATION_CODES,
        None,
        id="JENIS_PKRJN",
    ),
    pytest.param(
        licensing_codes.STATUS,
        licensing_codes.STATUS_CODES,
        ApplicationStatus,
        id="permohonan.status",
    ),
    pytest.param(
        licensing_codes.REQUEST_KIND,
        licensing_codes.REQUEST_KIND_CODES,
        RequestKind,
        id="jenis_permohonan",
    ),
    pytest.param(
        licensing_codes.APPLICANT_KIND,
        licensing_codes.APPLICANT_KIND_CODES,
        ApplicantKind,
        id="jenis_pemohon",
    ),
    pytest.param(
        complaint_codes.STATUS,
        complaint_codes.STATUS_CODES,
        ComplaintStatus,
        id="laporan.status",
    ),
    pytest.param(
        complaint_codes.CLASSIFICATION,
        complaint_codes.CLASSIFICATION_CODES,
        ComplaintClassification,
        id="klasifikasi",
    ),
    pytest.param(
        complaint_codes.CHANNEL,
        complaint_codes.CHANNEL_CODES,
        ComplaintChannel,
        id="kanal",
    ),
    pytest.param(
        complaint_codes.VISIBILITY,
        complaint_codes.VISIBILITY_CODES,
        ComplaintVisibility,
        id="kerahasiaan",
    ),
]


@pytest.mark.parametrize(("forward", "reverse", "domain"), TABLES)
def test_every_code_maps_to_a_domain_value_and_back(
    forward: Mapping[object, object],
    reverse: Mapping[object, object],
    domain: type[enum.Enum] | None,
) -> None:
    for code, value in forward.items():
        assert reverse[value] == code
    if domain is not None:
        assert set(forward.values()) == set(domain), (
            "every domain value has exactly one code"
        )


def test_siak_code_tables_have_the_sizes_of_api_md() -> None:
    sizes = {name: len(table) for name, table in population_codes.TABLES.items()}
    assert sizes == {
        "JENIS_KLMIN": 2,
        "GOL_DRH": 13,
        "AGAMA": 7,
        "STAT_KWN": 4,
        "STAT_HBKEL": 11,
        "PDDK_AKH": 10,
        "JENIS_PKRJN": 26,
    }
    assert list(population_codes.JENIS_PKRJN) == list(range(1, 27))


@pytest.mark.parametrize("value", [9, "x", None, 1.5j])
def test_an_unknown_siak_code_is_named_in_the_error(value: object) -> None:
    with pytest.raises(UnknownCode, match="AGAMA"):
        population_codes.decode("AGAMA", population_codes.AGAMA, value)


def test_siak_codes_stored_as_text_are_accepted() -> None:
    assert (
        population_codes.decode("AGAMA", population_codes.AGAMA, "2")
        is Religion.KRISTEN
    )


@pytest.mark.parametrize(
    ("transitions", "statuses", "finished"),
    [
        pytest.param(
            licensing_codes.TRANSITIONS,
            ApplicationStatus,
            APPLICATION_FINISHED,
            id="licensing",
        ),
        pytest.param(
            complaint_codes.TRANSITIONS,
            ComplaintStatus,
            COMPLAINT_FINISHED,
            id="complaints",
        ),
    ],
)
def test_workflows_cover_every_status_and_allow_nothing_after_the_end(
    transitions, statuses, finished
) -> None:
    assert set(transitions) == set(statuses)
    terminal = {s for s, targets in transitions.items() if not targets}
    assert terminal <= finished
