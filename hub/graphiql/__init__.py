"""GraphiQL, served by the hub itself: a pinned release vendored as package data
(`assets/`, see `assets/README.md`), so the IDE works on an intranet or offline and
the page makes no request to anyone but the hub."""

from hub.graphiql.page import ASSETS_PATH, graphiql_assets, graphiql_page

__all__ = ["ASSETS_PATH", "graphiql_assets", "graphiql_page"]
