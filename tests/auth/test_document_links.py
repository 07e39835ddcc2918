"""Download links for documents (auth.document_links): signed, expiring, bound to one
subject and one document, and worth nothing once altered or signed with another key."""

from __future__ import annotations

import pytest

from auth.document_links import DocumentLinks, LinkExpired, LinkInvalid

KEY = b"k" * 32


def issue(links: DocumentLinks, **overrides: object) -> str:
    claims = {"subject": "petugas-1", "application": "503/DPMPTSP/2026/000001-AB12", "document": "d" * 32,
              "purpose": "permit-verification", "case": "503/DPMPTSP/2026/000001-AB12", "now": 1_000_000.0}
    claims.update(overrides)
    token, _ = links.issue(**claims)  # type: ignore[arg-type]
    return token


def test_a_link_carries_its_grant_until_it_expires() -> None:
    links = DocumentLinks(KEY, ttl_seconds=300)
    grant = links.verify(issue(links), now=1_000_299)
    assert (grant.subject, grant.document, grant.purpose) == ("petugas-1", "d" * 32, "permit-verification")
    assert grant.expires_at == 1_000_300
    with pytest.raises(LinkExpired):
        links.verify(issue(links), now=1_000_300)


def test_two_links_for_the_same_document_differ() -> None:
    links = DocumentLinks(KEY)
    assert issue(links) != issue(links)  # a random id in each


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="signature"),
    pytest.param(lambda t: t.split(".")[0] + ".e30." + t.split(".")[2], id="claims"),
    pytest.param(lambda t: "", id="empty"),
    pytest.param(lambda t: "x" * 5000, id="oversized"),
    pytest.param(lambda t: "a.b.c", id="garbage"),
])
def test_an_altered_link_is_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    links = DocumentLinks(KEY)
    with pytest.raises(LinkInvalid):
        links.verify(mutate(issue(links)), now=1_000_001)


def test_a_link_signed_with_another_key_is_refused() -> None:
    with pytest.raises(LinkInvalid):
        DocumentLinks(KEY).verify(issue(DocumentLinks(b"other" * 8)), now=1_000_001)


def test_the_links_key_is_not_the_material_it_came_from() -> None:
    """A link is not a valid HS256 token under the raw key material (it is derived)."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import OctKey

    with pytest.raises(JoseError):
        jwt.decode(issue(DocumentLinks(KEY)), OctKey.import_key(KEY), algorithms=["HS256"])
