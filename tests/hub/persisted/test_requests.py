"""Requests that name a document instead of sending it: pushed operations by
`documentId`, automatic persisted queries by hash, and the policy's persisted-only rule.
Every named document still runs under the caller's own schema, policy and purposes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from hub.cli import main
from tests.support.hardening import Headers
from tests.hub.persisted.support import ME, PEOPLE, TRACK, apollo_manifest, by_hash, code_of, sha

Token = Callable[..., Headers]
Args = Callable[..., list[str]]
STRICT = {"Accept": "application/graphql-response+json"}
PUBLIC = {"X-Client-Name": "public-site"}


def push(hub_args: Args, tmp_path: Path, client: str, *bodies: str, roles: tuple[str, ...]) -> None:
    manifest = apollo_manifest(tmp_path / f"{client}.json", *bodies)
    role_args = [word for role in roles for word in ("--role", role)]
    assert main(hub_args("operations", "push", client, str(manifest), *role_args)) == 0


def get(client: TestClient, params: dict[str, Any], headers: Headers | None = None) -> Any:
    encoded = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in params.items()}
    return client.get("/graphql", params=encoded, headers={**(headers or {}), "Accept": "application/json"})


def test_a_pushed_operation_runs_by_its_id_over_post_and_get(
    client: TestClient, hub_args: Args, tmp_path: Path
) -> None:
    push(hub_args, tmp_path, "public-site", TRACK, roles=("anonymous",))
    posted = client.post("/graphql", json={"documentId": sha(TRACK), "variables": {"n": "nope"}}, headers=PUBLIC)
    assert posted.status_code == 200, posted.text
    assert posted.json()["data"] == {"trackApplication": None}
    fetched = get(client, {"documentId": f"sha256:{sha(TRACK)}", "variables": {"n": "nope"}}, PUBLIC)
    assert fetched.json()["data"] == {"trackApplication": None}
    relay = client.post("/graphql", json={"doc_id": sha(TRACK), "variables": {"n": "nope"}}, headers=PUBLIC)
    assert relay.json()["data"] == {"trackApplication": None}


def test_a_pushed_operation_is_found_only_under_its_client_and_roles(
    client: TestClient, hub_args: Args, tmp_path: Path, token: Token
) -> None:
    push(hub_args, tmp_path, "portal", ME, roles=("citizen",))
    request = {"documentId": sha(ME)}
    assert code_of(client.post("/graphql", json=request)) == "PERSISTED_QUERY_NOT_FOUND"  # no client
    assert code_of(client.post("/graphql", json=request, headers=PUBLIC)) == "PERSISTED_QUERY_NOT_FOUND"
    # the anonymous caller names the client, but it was pushed for citizens only
    assert code_of(client.post("/graphql", json=request, headers={"X-Client-Name": "portal"})) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    citizen = {**token("citizen", nik="1471080101900001"), "X-Client-Name": "portal"}
    ran = client.post("/graphql", json=request, headers=citizen)
    assert ran.json()["data"]["me"]["roles"] == ["citizen"], ran.text
    assert ran.json() == client.post("/graphql", json={"query": ME}, headers=citizen).json()  # as its text
    bad = client.post("/graphql", json=request, headers={"X-Client-Name": "no spaces please"})
    assert code_of(bad) == "BAD_REQUEST"


def test_a_removed_operation_stops_running(client: TestClient, hub_args: Args, tmp_path: Path) -> None:
    push(hub_args, tmp_path, "public-site", ME, roles=("anonymous",))
    assert client.post("/graphql", json={"documentId": sha(ME)}, headers=PUBLIC).json()["data"]["me"]
    assert main(hub_args("operations", "remove", "public-site", sha(ME))) == 0
    gone = client.post("/graphql", json={"documentId": sha(ME)}, headers={**PUBLIC, **STRICT})
    assert gone.status_code == 400 and "data" not in gone.json()
    assert code_of(gone) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_pushed_operation_with_personal_data_still_needs_a_purpose(
    client: TestClient, hub_args: Args, tmp_path: Path, token: Token
) -> None:
    push(hub_args, tmp_path, "registry", PEOPLE, roles=("population_officer",))
    officer = {**token("population_officer"), "X-Client-Name": "registry"}
    refused = client.post("/graphql", json={"documentId": sha(PEOPLE)}, headers=officer)
    assert refused.json()["data"] is None or refused.json()["data"]["citizens"] is None
    assert code_of(refused) == "PURPOSE_REQUIRED"
    allowed = client.post("/graphql", json={"documentId": sha(PEOPLE)},
                          headers={**officer, "X-Access-Purpose": "population-service"})
    assert allowed.json()["data"]["citizens"]["edges"], allowed.text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"query": "{ me { subject } }"}, id="ad-hoc"),
        pytest.param(by_hash("{ me { subject } }", with_query=True), id="apq-registration"),
    ],
)
def test_a_persisted_only_role_refuses_documents_sent_as_text(
    client: TestClient, token: Token, body: dict[str, Any]
) -> None:
    analyst = token("analyst")
    strict = client.post("/graphql", json=body, headers={**analyst, **STRICT})
    assert strict.status_code == 400 and "data" not in strict.json()
    assert code_of(strict) == "PERSISTED_QUERY_REQUIRED"
    assert "hub operations push" in strict.json()["errors"][0]["message"]
    legacy = client.post("/graphql", json=body, headers=analyst)
    assert legacy.status_code == 200 and legacy.json()["data"] is None
    assert code_of(legacy) == "PERSISTED_QUERY_REQUIRED"
    # other roles are not held to it
    assert client.post("/graphql", json=body, headers=token("auditor")).json()["data"]["me"]["subject"]


def test_a_persisted_only_role_runs_its_pushed_operations(
    client: TestClient, hub_args: Args, tmp_path: Path, token: Token
) -> None:
    push(hub_args, tmp_path, "dashboard", ME, roles=("analyst",))
    analyst = {**token("analyst"), "X-Client-Name": "dashboard"}
    ran = client.post("/graphql", json={"documentId": sha(ME)}, headers=analyst)
    assert ran.json()["data"]["me"]["roles"] == ["analyst"], ran.text
    by_apollo_hash = client.post("/graphql", json=by_hash(ME), headers=analyst)  # Apollo's form of an id
    assert by_apollo_hash.json()["data"]["me"]["roles"] == ["analyst"]


def test_apq_cannot_take_a_persisted_only_caller_around_the_rule(
    client: TestClient, token: Token
) -> None:
    """A document another caller registered by APQ is not a pushed operation."""
    document = "{ me { subject } }"
    registered = client.post("/graphql", json=by_hash(document, with_query=True), headers=token("auditor"))
    assert registered.json()["data"]["me"]["subject"] == "t-auditor"
    assert client.post("/graphql", json=by_hash(document), headers=token("auditor")).json()["data"]
    refused = client.post("/graphql", json=by_hash(document), headers=token("analyst"))
    assert refused.json()["data"] is None and code_of(refused) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_persisted_only_client_refuses_documents_sent_as_text(
    client: TestClient, token: Token, hub_args: Args, tmp_path: Path
) -> None:
    frozen = token("population_officer", client_id="svc-frozen")
    assert code_of(client.post("/graphql", json={"query": "{ me { subject } }"}, headers=frozen)) == (
        "PERSISTED_QUERY_REQUIRED"
    )
    push(hub_args, tmp_path, "svc-frozen", ME, roles=("population_officer",))
    # its token names the client: no header needed, and another client's name is ignored
    ran = client.post("/graphql", json={"documentId": sha(ME)}, headers={**frozen, "X-Client-Name": "elsewhere"})
    assert ran.json()["data"]["me"]["roles"] == ["population_officer"], ran.text
    other = token("population_officer", client_id="svc-other")
    assert client.post("/graphql", json={"query": "{ me { subject } }"}, headers=other).json()["data"]


def test_apq_round_trip_miss_register_hit(client: TestClient) -> None:
    document = 'query Track { trackApplication(number: "nope") { number status } }'
    missed = client.post("/graphql", json=by_hash(document))
    assert missed.status_code == 200 and missed.json()["data"] is None
    error = missed.json()["errors"][0]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert error["message"] == "PersistedQueryNotFound"  # what Apollo Client's link looks for
    registered = client.post("/graphql", json=by_hash(document, with_query=True))
    assert registered.json() == {"data": {"trackApplication": None}}
    hit = client.post("/graphql", json=by_hash(document))
    assert hit.json() == {"data": {"trackApplication": None}}
    fetched = get(client, {"extensions": by_hash(document)["extensions"]})
    assert fetched.status_code == 200 and fetched.json() == {"data": {"trackApplication": None}}


def test_apq_refuses_a_hash_that_is_not_the_texts(client: TestClient) -> None:
    body = by_hash("{ me { subject } }")
    body["query"] = "{ me { roles } }"
    answer = client.post("/graphql", json=body, headers=STRICT)
    assert answer.status_code == 400 and code_of(answer) == "PERSISTED_QUERY_HASH_MISMATCH"
    # and nothing was registered under either hash
    for text in ("{ me { subject } }", "{ me { roles } }"):
        assert code_of(client.post("/graphql", json=by_hash(text))) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [
        pytest.param({"version": 2, "sha256Hash": "0" * 64}, id="version"),
        pytest.param({"version": 1, "sha256Hash": "XYZ"}, id="not-hex"),
        pytest.param({"version": 1}, id="no-hash"),
        pytest.param("abc", id="not-an-object"),
    ],
)
def test_a_malformed_persisted_query_extension_is_a_bad_request(client: TestClient, extension: Any) -> None:
    answer = client.post("/graphql", json={"extensions": {"persistedQuery": extension}}, headers=STRICT)
    assert answer.status_code == 400 and code_of(answer) == "BAD_REQUEST"


def test_an_apq_document_is_kept_only_once_it_validated_for_its_caller(client: TestClient) -> None:
    invalid = "{ citizens(first: 1) { totalCount } }"  # not in the anonymous schema
    refused = client.post("/graphql", json=by_hash(invalid, with_query=True))
    assert code_of(refused) == "GRAPHQL_VALIDATION_FAILED"
    assert code_of(client.post("/graphql", json=by_hash(invalid))) == "PERSISTED_QUERY_NOT_FOUND"


def test_one_roles_apq_registration_does_not_change_what_another_runs(client: TestClient, token: Token) -> None:
    """The text registered by an officer is validated again against the public's schema."""
    officer = {**token("population_officer"), "X-Access-Purpose": "population-service"}
    registered = client.post("/graphql", json=by_hash(PEOPLE, with_query=True), headers=officer)
    assert registered.json()["data"]["citizens"]["edges"]
    anonymous = client.post("/graphql", json=by_hash(PEOPLE))
    assert anonymous.json()["data"] is None and code_of(anonymous) == "GRAPHQL_VALIDATION_FAILED"


def test_a_request_with_both_a_query_and_a_document_id_is_refused(client: TestClient) -> None:
    answer = client.post("/graphql", json={"query": "{ me { subject } }", "documentId": "x"})
    assert answer.status_code == 400 and code_of(answer) == "BAD_REQUEST"
    two = client.post("/graphql", json={"documentId": "x", "doc_id": "y"})
    assert two.status_code == 400 and code_of(two) == "BAD_REQUEST"
    nothing = client.post("/graphql", json={"variables": {}})
    assert nothing.status_code == 400 and code_of(nothing) == "BAD_REQUEST"


def test_a_store_that_cannot_be_read_is_a_503_with_its_code_not_an_internal_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from hub.persisted import apq, documents

    async def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(documents, "find_operation", broken)
    monkeypatch.setattr(apq.ApqStore, "get", broken)
    for body, headers in (({"documentId": "x"}, PUBLIC), (by_hash("{ me { subject } }"), {})):
        answer = client.post("/graphql", json=body, headers={**headers, **STRICT})
        assert answer.status_code == 503 and code_of(answer) == "PERSISTED_QUERY_UNAVAILABLE", answer.text
        assert "disk" not in answer.text
