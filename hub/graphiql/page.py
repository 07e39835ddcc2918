"""The GraphiQL page at `GET /graphql` (Accept: text/html) and its assets.

The page loads React, ReactDOM and GraphiQL from `ASSETS_PATH` on the hub (files of
`assets/`, shipped in the wheel) and starts the IDE with `assets/simpul-graphiql.js`;
its settings travel in a JSON data block, so no inline script runs and the Content
Security Policy can allow the hub's own origin only. The headers editor starts with
the two headers the hub reads, and the first tab explains where tokens come from
(`hub demo` prints one per demo role, `hub token` makes more, service accounts use
`/oauth/token`) and when a purpose is needed. Headers are not kept in the browser's
storage (a token would outlive the tab there).
"""

from __future__ import annotations

import json
from html import escape

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

#: where the vendored files are served (mounted by `hub.app`)
ASSETS_PATH = "/graphiql-assets"
GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"

#: the page may load and call nothing but the hub itself (GraphiQL's fonts are inline
#: data: URLs; React sets inline styles)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

TOKEN_PLACEHOLDER = "PASTE-A-TOKEN-HERE"

DEFAULT_HEADERS = json.dumps(
    {"Authorization": f"Bearer {TOKEN_PLACEHOLDER}", "X-Access-Purpose": ""}, indent=2
)

DEFAULT_QUERY = f"""\
# Simpul GraphiQL: the schema your role sees.
#
# 1. Put a token in "Headers" (below), in place
#    of {TOKEN_PLACEHOLDER}:
#    - `hub demo` prints one per demo role;
#    - `hub token --role ROLE` makes more
#      (a kelurahan officer needs --kelurahan,
#      a citizen --nik);
#    - service accounts: POST /oauth/token.
#    Then re-fetch the schema (the circular
#    arrows, bottom left): Docs and completion
#    show your role's fields. Without a token
#    you are the public caller, who may not
#    introspect.
# 2. Personal data needs "X-Access-Purpose": a
#    purpose code open to your role (and
#    "X-Access-Case" when the purpose is bound
#    to a case). A missing or unknown purpose
#    is answered with the ones you may use.
# 3. Run with the play button or Ctrl-Enter.

query Me {{
  me {{
    subject
    roles
  }}
}}
"""


def _asset(name: str, version: str) -> str:
    return f"{ASSETS_PATH}/{name}?v={version}"


def graphiql_html() -> str:
    config = json.dumps(
        {"url": "/graphql", "defaultQuery": DEFAULT_QUERY, "defaultHeaders": DEFAULT_HEADERS},
    ).replace("<", "\\u003c")  # cannot end the data block
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simpul GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{escape(_asset('graphiql.min.css', GRAPHIQL_VERSION))}">
<link rel="stylesheet" href="{escape(_asset('simpul-graphiql.css', GRAPHIQL_VERSION))}">
</head>
<body>
<div id="graphiql">Loading GraphiQL&hellip;</div>
<script type="application/json" id="simpul-graphiql-config">{config}</script>
<script src="{escape(_asset('react.production.min.js', REACT_VERSION))}"></script>
<script src="{escape(_asset('react-dom.production.min.js', REACT_VERSION))}"></script>
<script src="{escape(_asset('graphiql.min.js', GRAPHIQL_VERSION))}"></script>
<script src="{escape(_asset('simpul-graphiql.js', GRAPHIQL_VERSION))}"></script>
</body>
</html>
"""


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(
        graphiql_html(),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def graphiql_assets() -> StaticFiles:
    """The vendored files (`hub/graphiql/assets`, package data)."""
    return StaticFiles(packages=[("hub.graphiql", "assets")])


__all__ = [
    "ASSETS_PATH", "CONTENT_SECURITY_POLICY", "DEFAULT_HEADERS", "DEFAULT_QUERY", "graphiql_assets",
    "graphiql_html", "graphiql_page",
]
