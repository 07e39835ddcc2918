"""What the citizen page costs a phone on a weak connection: the bytes each page sends
(gzip-compressed, as a browser asks for them), against a running `hub demo`.

    hub demo --port 8747 &
    python -m bench.citizen_page --url http://127.0.0.1:8747 [--nik NIK]

Signs in through the demo's development identity provider as a sample resident (the
first one it lists, or `--nik`), then fetches each page of the path once and prints,
per page, the compressed body on the wire, the headers and the uncompressed HTML. Every
page is one request: no script, no stylesheet or font to fetch (the style is inline),
the favicon cached a day. Fetching "Ajukan permohonan" creates nothing."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import httpx

PAGES = (("sign-in invitation", "/warga/", False), ("Permohonan saya", "/warga/", True),
         ("Ajukan permohonan (types)", "/warga/ajukan", True),
         ("Ajukan permohonan (IUMK form)", "/warga/ajukan?jenis=IUMK", True))


def _sign_in(client: httpx.Client, nik: str | None) -> None:
    url = client.base_url
    start = client.get("/warga/masuk")
    if start.status_code != 302:
        raise SystemExit(f"no sign-in at {url}/warga/masuk ({start.status_code}): is this `hub demo`?")
    authorize = start.headers["location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    if nik is None:
        listing = client.get(authorize).text
        found = re.search(r'name="nik" value="(\d{16})"', listing)
        if found is None:
            raise SystemExit("the development identity provider lists no resident: is this `hub demo`?")
        nik = found.group(1)
    back = client.post(authorize.split("?")[0], data={**params, "nik": nik})
    done = client.get(back.headers["location"])
    if done.status_code != 303:
        raise SystemExit(f"sign-in failed: {done.status_code}")


def measure(url: str, nik: str | None) -> list[tuple[str, int, int, int]]:
    rows = []
    with httpx.Client(base_url=url, timeout=30, headers={"Accept-Encoding": "gzip"}) as client:
        signed_in = False
        for name, path, signed in PAGES:
            if signed and not signed_in:
                _sign_in(client, nik)
                signed_in = True
            response = client.get(path)
            response.raise_for_status()
            headers = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 17  # + status line
            rows.append((name, response.num_bytes_downloaded, headers, len(response.content)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.citizen_page", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a running `hub demo` (its citizen page and /dev-idp)")
    parser.add_argument("--nik", help="the sample resident to sign in as (default: the first listed)")
    args = parser.parse_args(argv)
    rows = measure(args.url.rstrip("/"), args.nik)
    print(f"{'page':32} {'gzip body':>10} {'headers':>8} {'total':>8} {'html':>8}")
    for name, body, headers, html in rows:
        print(f"{name:32} {body:>8} B {headers:>6} B {body + headers:>6} B {html:>6} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
