from __future__ import annotations

from auth.principal import Principal
from tests.schema.harness import Execute
from tests.support.sample_world import SIDOMULYO_BARAT, SIMPANG_BARU, World

KELURAHAN_OFFICER = Principal(
    subject="lurah-staff", roles=frozenset({"kelurahan_officer"}), kelurahan=SIMPANG_BARU
)
COMPLAINT_OFFICER = Principal(subject="pengaduan", roles=frozenset({"complaint_officer"}))

CITIZEN = """query($nik: String!) { citizen(nik: $nik) {
  nik fullName birthDate age sex kelurahan { code name kecamatan }
  family { number head { fullName } members { fullName familyRelationship } }
  applications { number status dueDate overdue workingDaysElapsed permitType { code serviceLevelDays } }
  complaints { number visibility reporterNik }
} }"""


async def test_a_citizen_comes_with_family_applications_and_complaints(execute: Execute, world: World) -> None:
    head = world.citizens[0]
    body = await execute(CITIZEN, {"nik": head.nik}, principal=KELURAHAN_OFFICER)
    assert "errors" not in body
    citizen = body["data"]["citizen"]
    assert citizen["fullName"] == head.full_name
    assert citizen["birthDate"] == head.birth_date.isoformat()
    assert citizen["age"] == 45
    assert citizen["kelurahan"] == {"code": SIMPANG_BARU, "name": "Simpang Baru", "kecamatan": "Binawidya"}
    assert citizen["family"]["head"]["fullName"] == head.full_name
    assert [m["familyRelationship"] for m in citizen["family"]["members"]] == ["HEAD", "WIFE", "CHILD"]
    assert [a["number"] for a in citizen["applications"]] == [world.applications[0].number]


async def test_derived_citizen_fields_are_there_whenever_selected(execute: Execute, world: World) -> None:
    """Age and kelurahan are computed only for documents that select them: through a
    fragment and under aliases they are still selected; a page without them still works."""
    head = world.citizens[0]
    spread = """query($nik: String!) { citizen(nik: $nik) { ...Derived } }
      fragment Derived on Citizen { years: age place: kelurahan { name } }"""
    body = await execute(spread, {"nik": head.nik}, principal=KELURAHAN_OFFICER)
    assert body["data"]["citizen"] == {"years": 45, "place": {"name": "Simpang Baru"}}
    inline = """{ citizens(first: 3) { edges { node { nik ... on Citizen { age } } } } }"""
    body = await execute(inline, principal=KELURAHAN_OFFICER)
    assert all(isinstance(e["node"]["age"], int) for e in body["data"]["citizens"]["edges"])
    plain = "{ citizens(first: 3) { edges { node { nik fullName } } } }"
    body = await execute(plain, principal=KELURAHAN_OFFICER)
    assert "errors" not in body and len(body["data"]["citizens"]["edges"]) == 3


async def test_an_applications_due_date_counts_working_days_from_a_complete_file(execute: Execute, world: World) -> None:
    # IUMK, 3 working days, file complete on Tuesday 3 June 2025; 6 June (Idul Adha) and
    # 9 June (collective leave) are closed, so it is due on Tuesday 10 June 2025.
    body = await execute(CITIZEN, {"nik": world.citizens[0].nik}, principal=KELURAHAN_OFFICER)
    application = body["data"]["citizen"]["applications"][0]
    assert application["permitType"] == {"code": "IUMK", "serviceLevelDays": 3}
    assert application["dueDate"] == "2025-06-10"
    # issued on 12 June: two working days late
    assert application["overdue"] is True
    assert application["workingDaysElapsed"] == 5


async def test_an_unknown_nik_is_null_without_error_for_a_role_that_reads_every_row(execute: Execute) -> None:
    body = await execute("query($nik: String!) { citizen(nik: $nik) { fullName } }",
                         {"nik": "1471080101990999"})  # the population officer
    assert body["data"] == {"citizen": None}
    assert "errors" not in body


async def test_an_unknown_nik_is_refused_like_an_unreadable_one_for_a_role_with_row_rules(execute: Execute) -> None:
    body = await execute(CITIZEN, {"nik": "1471080101990999"}, principal=KELURAHAN_OFFICER)
    assert body["data"] == {"citizen": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_malformed_nik_is_bad_user_input(execute: Execute) -> None:
    body = await execute(CITIZEN, {"nik": "12345"}, principal=KELURAHAN_OFFICER)
    assert body["data"] == {"citizen": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "16 digits" in body["errors"][0]["message"]


LIST = """query($first: Int, $after: String, $filter: CitizenFilter) {
  citizens(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { nik fullName
      applications { number applicant { nik fullName } }
      complaints { number }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_listing_citizens_with_links_calls_each_source_once_per_level(execute: Execute, world: World) -> None:
    body = await execute(LIST, {"first": 100}, principal=KELURAHAN_OFFICER)
    assert "errors" not in body
    edges = body["data"]["citizens"]["edges"]
    mine = [c for c in world.citizens if c.kelurahan_code == SIMPANG_BARU]
    assert len(edges) == len(mine)
    calls = {(t["source"], t["operation"]): t["calls"] for t in body["extensions"]["sources"]}
    assert calls == {
        ("population", "list_citizens"): 1,
        ("licensing", "applications_by_applicant"): 1,
        ("complaints", "complaints_by_reporter"): 1,
    }  # applicants were primed by the listing: no second population call
    # the wait on the sources: the calls' union, at least the longest, at most their sum;
    # every figure is rounded to 0.01 ms, so each may be off by half of that
    per_call = [t["ms"] for t in body["extensions"]["sources"]]
    rounding = 0.005 * (len(per_call) + 1) + 1e-9
    assert max(per_call) - rounding <= body["extensions"]["sourceWaitMs"] <= sum(per_call) + rounding
    applicants = [a["applicant"]["nik"] for e in edges for a in e["node"]["applications"]]
    assert len(applicants) == len([a for a in world.applications if a.kelurahan_code == SIMPANG_BARU])


async def test_paging_through_citizens_sees_each_once(execute: Execute, world: World) -> None:
    seen, after = [], None
    while True:
        body = await execute(LIST.replace("complaints { number }", ""), {"first": 4, "after": after})
        page = body["data"]["citizens"]
        seen += [e["node"]["nik"] for e in page["edges"]]
        assert page["totalCount"] == len(world.citizens)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(c.nik for c in world.citizens)


async def test_citizens_filter_by_kelurahan_and_name(execute: Execute, world: World) -> None:
    body = await execute(LIST.replace("complaints { number }", ""),
                         {"filter": {"kelurahan": [SIDOMULYO_BARAT], "nameContains": "siti"}})
    names = [e["node"]["fullName"] for e in body["data"]["citizens"]["edges"]]
    expected = [c.full_name for c in sorted(world.citizens, key=lambda c: c.nik)
                if c.kelurahan_code == SIDOMULYO_BARAT and "Siti" in c.full_name]
    assert names == expected and len(names) == 3


async def test_a_page_larger_than_the_maximum_is_refused(execute: Execute) -> None:
    body = await execute(LIST, {"first": 101}, principal=KELURAHAN_OFFICER)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_bad_kelurahan_code_is_refused(execute: Execute) -> None:
    body = await execute(LIST, {"filter": {"kelurahan": ["14710810'; DROP TABLE x"]}}, principal=KELURAHAN_OFFICER)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_applications_list_newest_first_with_applicants_in_one_call(execute: Execute, world: World) -> None:
    body = await execute("""{ applications(first: 50) { edges { node { number receivedAt applicant { fullName } } } } }""")
    nodes = [e["node"] for e in body["data"]["applications"]["edges"]]
    assert [n["number"] for n in nodes] == [a.number for a in sorted(world.applications, key=lambda a: a.received_at, reverse=True)]
    assert all(n["applicant"]["fullName"] for n in nodes)
    population = [t for t in body["extensions"]["sources"] if t["source"] == "population"]
    assert population == [{"source": "population", "operation": "citizens_by_nik", "calls": 1,
                           "items": len(world.applications), "ms": population[0]["ms"]}]


async def test_a_confidential_or_anonymous_reporter_is_never_shown(execute: Execute, world: World) -> None:
    for complaint in world.complaints:  # each read under its own case
        body = await execute(
            """query($n: String!) { complaint(number: $n) { visibility reporterNik reporter { nik } } }""",
            {"n": complaint.number}, principal=COMPLAINT_OFFICER, purpose="complaint-follow-up", case=complaint.number,
        )
        assert "errors" not in body, body["errors"]
        node = body["data"]["complaint"]
        if node["visibility"] == "PUBLIC":
            assert node["reporter"]["nik"] == node["reporterNik"] == complaint.reporter_nik
        else:
            assert node["reporter"] is None and node["reporterNik"] is None


async def test_a_source_outage_fails_only_its_paths(execute: Execute, world: World, sources) -> None:  # type: ignore[no-untyped-def]
    from connectors.errors import SourceUnavailable

    sources.complaints.failure = SourceUnavailable("complaints", "connection refused")
    body = await execute(CITIZEN, {"nik": world.citizens[0].nik}, principal=KELURAHAN_OFFICER)
    assert body["data"]["citizen"]["fullName"] == world.citizens[0].full_name
    assert body["data"]["citizen"]["complaints"] is None
    assert body["data"]["citizen"]["applications"] is not None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "source": "complaints"}
    assert error["path"] == ["citizen", "complaints"]
