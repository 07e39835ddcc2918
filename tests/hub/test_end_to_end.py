"""The hub over the real sample systems: separate programs on free local ports."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.testclient import TestClient

from auth.ledger import verify
from hub.demo import DemoSources, read_manifest
from hub.settings import Settings
from hub.store import create_store_engine

HUNDRED_CITIZENS = """{ citizens(first: 100) { totalCount edges { node {
  nik fullName age kelurahan { name }
  applications { number status dueDate overdue applicant { nik fullName } }
  complaints { number category status }
} } } }"""


def post(client: TestClient, query: str, headers: dict[str, str] | None = None, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def calls(body: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(t["source"], t["operation"]): t["calls"] for t in body["extensions"]["sources"]}


def test_the_health_endpoints_report_each_source(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert {s["source"]: s["state"] for s in ready.json()["sources"]} == {
        "population": "UP", "licensing": "UP", "complaints": "UP",
    }


def test_a_hundred_citizens_with_links_cost_one_call_per_source_per_level(client: TestClient, token) -> None:  # type: ignore[no-untyped-def]
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    query = HUNDRED_CITIZENS.replace("complaints { number category status }", "")
    body = post(client, query, headers)
    assert "errors" not in body, body.get("errors")
    assert len(body["data"]["citizens"]["edges"]) == 100
    assert calls(body) == {("population", "list_citizens"): 1, ("licensing", "applications_by_applicant"): 1}


def test_a_kelurahan_officer_gets_citizens_applications_and_complaints_of_its_kelurahan_only(
    client: TestClient, token, stack: DemoSources  # type: ignore[no-untyped-def]
) -> None:
    kelurahan = "1471081001"
    headers = {**token("kelurahan_officer", kelurahan=kelurahan), "X-Access-Purpose": "population-service"}
    query = HUNDRED_CITIZENS.replace("kelurahan { name }", "kelurahan { code }")
    body = post(client, query.replace("totalCount", "totalCount pageInfo { hasNextPage }"), headers)
    assert "errors" not in body, body.get("errors")
    edges = body["data"]["citizens"]["edges"]
    assert edges and all(e["node"]["kelurahan"]["code"] == kelurahan for e in edges)
    # the row rule was pushed down: one page of 100 held every row of the kelurahan (of
    # 400 residents in all), so the registry returned no row of another kelurahan
    assert len(edges) < 100 and not body["data"]["citizens"]["pageInfo"]["hasNextPage"]
    assert calls(body) == {
        ("population", "list_citizens"): 1,
        ("licensing", "applications_by_applicant"): 1,
        ("complaints", "complaints_by_reporter"): 1,
    }
    other = post(client, "{ applications(first: 100) { edges { node { kelurahan { code } } } } }", headers)
    assert {e["node"]["kelurahan"]["code"] for e in other["data"]["applications"]["edges"]} <= {kelurahan}


def test_a_page_of_applications_loads_applicants_in_one_call(client: TestClient, token, stack: DemoSources) -> None:  # type: ignore[no-untyped-def]
    # (a licensing officer reads applicants only under one application's case: a page of
    # them is a population officer's)
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    body = post(client, "{ applications(first: 100) { edges { node { number applicant { nik fullName } } } } }", headers)
    assert "errors" not in body, body.get("errors")
    nodes = [e["node"] for e in body["data"]["applications"]["edges"]]
    assert len(nodes) == read_manifest(stack.data_dir)["applications"] <= 100  # all of them, one page
    assert calls(body) == {("licensing", "list_applications"): 1, ("population", "citizens_by_nik"): 1}


def test_a_licensing_officer_reads_the_application_of_its_case_with_the_applicant_masked(
    client: TestClient, token  # type: ignore[no-untyped-def]
) -> None:
    worklist = post(client, "{ applications(first: 100) { edges { node { number applicantKind } } } }",
                    token("licensing_officer"))  # no personal data: no purpose needed
    number = next(e["node"]["number"] for e in worklist["data"]["applications"]["edges"]
                  if e["node"]["applicantKind"] == "PERSON")
    query = "query($n: String!) { application(number: $n) { number applicant { nik fullName } } }"
    headers = {**token("licensing_officer"), "X-Access-Purpose": "permit-verification"}
    body = post(client, query, {**headers, "X-Access-Case": number}, n=number)
    assert "errors" not in body, body.get("errors")
    assert "******" in body["data"]["application"]["applicant"]["nik"]  # masked for licensing officers
    assert calls(body) == {("licensing", "applications_by_number"): 1, ("population", "citizens_by_nik"): 1}
    unknown = post(client, query, {**headers, "X-Access-Case": "503/X/1"}, n=number)
    assert unknown["data"] is None and unknown["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


def test_paging_through_applications_sees_every_one_once_in_order(client: TestClient, token, stack: DemoSources) -> None:  # type: ignore[no-untyped-def]
    headers = token("analyst")
    seen: list[str] = []
    after = None
    while True:
        body = post(client, """query($after: String) { applications(first: 5, after: $after) {
            totalCount edges { node { number receivedAt } } pageInfo { hasNextPage endCursor } } }""",
                    headers, after=after)
        page = body["data"]["applications"]
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] == read_manifest(stack.data_dir)["applications"]


def test_an_invalid_token_is_refused_with_401_not_treated_as_anonymous(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ me { roles } }"}, headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_anonymous_callers_reach_only_public_fields(client: TestClient, stack: DemoSources) -> None:
    body = client.post("/graphql", json={"query": "{ citizens { totalCount } }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert post(client, "{ me { roles anonymous } }")["data"]["me"] == {"roles": ["anonymous"], "anonymous": True}


def test_personal_data_needs_a_purpose_and_every_record_is_ledgered(
    client: TestClient, token, settings: Settings  # type: ignore[no-untyped-def]
) -> None:
    officer = token("population_officer")
    refused = post(client, "{ citizens(first: 3) { edges { node { nik fullName } } } }", officer)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"

    headers = {**officer, "X-Access-Purpose": "population-service"}
    body = post(client, "{ citizens(first: 3) { edges { node { nik fullName } } } }", headers)
    niks = [e["node"]["nik"] for e in body["data"]["citizens"]["edges"]]
    auditor = token("auditor")
    ledger = post(client, "{ accessLedger(first: 10) { recordKey recordType fields purpose subject } }", auditor)
    entries = ledger["data"]["accessLedger"]
    assert len(entries) == 3
    assert {e["recordKey"] for e in entries} == {n[:6] + "******" + n[-4:] for n in niks}
    assert all(e["fields"] == ["fullName", "nik"] and e["purpose"] == "population-service" for e in entries)

    async def check() -> None:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            result = await verify(engine)
        finally:
            await engine.dispose()
        assert result.ok and result.entries == 3

    asyncio.run(check())


def test_a_citizen_sees_who_looked_at_their_data_but_not_the_officer(client: TestClient, token) -> None:  # type: ignore[no-untyped-def]
    officer = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    nik = post(client, "{ citizens(first: 1) { edges { node { nik } } } }", officer)["data"]["citizens"]["edges"][0]["node"]["nik"]
    post(client, "query($nik: String!) { citizen(nik: $nik) { fullName address } }", officer, nik=nik)
    mine = post(client, "{ myAccessLog { department roles purpose fields action } }", token("citizen", nik=nik))
    log = mine["data"]["myAccessLog"]
    assert log[0] == {"department": "test", "roles": ["population_officer"], "purpose": "population-service",
                      "fields": ["address", "fullName"], "action": "read"}
    assert "subject" not in str(mine)


def test_a_service_account_gets_a_token_with_its_roles_and_purpose(client: TestClient, settings: Settings) -> None:
    from auth.clients import add_client
    from hub.store import create_tables, write_transaction

    async def register() -> tuple[str, str]:
        engine = create_store_engine(settings.resolved_store_url)
        try:
            await create_tables(engine)
            async with write_transaction(engine) as conn:
                return await add_client(conn, roles=["analyst"], purpose="statistics", name="dashboard")
        finally:
            await engine.dispose()

    client_id, secret = asyncio.run(register())
    response = client.post(
        "https://testserver/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    access_token = response.json()["access_token"]
    me = post(client, "{ me { subject roles clientId } }", {"Authorization": f"Bearer {access_token}"})
    assert me["data"]["me"] == {"subject": client_id, "roles": ["analyst"], "clientId": client_id}
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all("d" not in key for key in keys)


def test_metrics_count_requests_source_calls_errors_and_ledger_entries(client: TestClient, token) -> None:  # type: ignore[no-untyped-def]
    headers = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    post(client, "{ citizens(first: 2) { edges { node { nik } } } }", headers)
    post(client, '{ citizen(nik: "123") { nik } }', headers)
    text = client.get("/metrics").text
    assert 'simpul_source_calls_total{operation="list_citizens",source="population"} 1.0' in text
    assert 'simpul_graphql_errors_total{code="BAD_USER_INPUT"} 1.0' in text
    assert 'simpul_ledger_entries_total{action="read"} 2.0' in text
    assert 'simpul_http_requests_total{method="POST",route="/graphql",status="200"} 2.0' in text
