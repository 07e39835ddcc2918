"""Signing out of the citizen page ends the session itself: a copy of the cookie taken
before is refused afterwards (sign-in page, 303 to the sign-in, 401 for a form), on this
hub and on another instance sharing the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from hub.citizen.session import COOKIE
from hub.settings import Settings
from tests.support.citizen import citizen_hub, form_value, sign_in
from tests.support.intake import PDF


def _with_cookie(url: str, value: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30, headers={"Cookie": f"{COOKIE}={value}"})


def _refused_everywhere(client: httpx.Client, csrf: str) -> None:
    home = client.get("/warga/")
    assert home.status_code == 200 and "Keluar" not in home.text  # the sign-in invitation
    assert client.get("/warga/ajukan").status_code == 303  # to the sign-in
    posted = client.post("/warga/ajukan", data={"csrf": csrf}, files=[("berkas.KTP_PEMOHON", ("k.pdf", PDF))])
    assert posted.status_code == 401 and 'id="kode">SESSION_EXPIRED<' in posted.text


def test_a_copied_cookie_is_refused_after_sign_out_on_every_instance(
        url: str, hub: tuple[str, Settings], stack: Any, people: list[tuple[str, str]]) -> None:
    store_dir = Path(hub[1].store_url.split("///", 1)[1]).parent
    with citizen_hub(stack, store_dir) as (other_url, _), httpx.Client(base_url=url, timeout=30) as browser:
        assert sign_in(browser, people[11][0]).status_code == 303
        copied = browser.cookies[COOKIE]
        csrf = form_value(browser.get("/warga/").text, "csrf")
        with _with_cookie(other_url, copied) as elsewhere:  # the same session on the other instance
            assert "Keluar" in elsewhere.get("/warga/").text
        out = browser.post("/warga/keluar", data={"csrf": csrf})
        assert out.status_code == 303 and "Keluar" not in browser.get("/warga/").text
        for where in (url, other_url):
            with _with_cookie(where, copied) as thief:
                _refused_everywhere(thief, csrf)
