"""Documents in a GraphQL request: the GraphQL multipart request spec
(https://github.com/jaydenseric/graphql-multipart-request-spec), read by Starlette's
multipart parser, which spools each file to a temporary file past 1 MB: no upload is
held whole in memory, and the resolvers hand the spooled file on to the source in
chunks (connectors.licensing.intake).

    operations   the operation as JSON, files as null placeholders
    map          {"0": ["variables.documents.0.file"], ...}
    0, 1, ...    the files

Refused before GraphQL runs, each with a code (HTTP 400 unless said):
    UPLOAD_NEEDS_TOKEN   a multipart request without a bearer token (401): only signed-in
                         callers upload, and a browser form cannot send one cross-site
    UPLOAD_INVALID       malformed multipart, too many files (more than MAX_FILES), a part
                         past its size limit, `operations`/`map` missing or not JSON, a
                         `map` path that is not in `operations`
    UPLOAD_TRUNCATED     a file `map` names did not arrive whole (the body was cut short)
    PAYLOAD_TOO_LARGE    the body is larger than MAX_UPLOAD_BYTES (413, hub.body_limit)
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLRequestData

from hub.graphql_http import HttpError, read_post

MULTIPART = "multipart/form-data"
MAX_FILES = 20
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # a whole multipart request
MAX_OPERATIONS_BYTES = 64 * 1024  # `operations` and `map`

#: the operation read from the multipart body of the request being served
current_upload: ContextVar[GraphQLRequestData | None] = ContextVar("simpul_upload", default=None)


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == MULTIPART


def _invalid(message: str) -> HttpError:
    return HttpError(400, "UPLOAD_INVALID", message)


def _json_field(form: FormData, name: str) -> Any:
    raw = form.get(name)
    if not isinstance(raw, str):
        raise _invalid(f"the multipart body needs a `{name}` field (JSON), before the files")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _invalid(f"`{name}` is not valid JSON: {exc.msg}") from exc


class _Parser(MultiPartParser):
    """Starlette's parser, told whether the closing boundary arrived: a body cut short
    otherwise parses "fine", without its last file (whose spooled file it leaves open)."""

    complete = False

    def on_end(self) -> None:
        self.complete = True

    def close_all(self) -> None:
        for file in self._files_to_close_on_error:  # every file it spooled, finished or not
            file.close()


async def read_multipart(request: Request) -> tuple[GraphQLRequestData, FormData]:
    """The operation with its `Upload` variables set to the spooled files, and the form
    (close it once the response is sent). Raises `HttpError`."""
    if not request.headers.get("authorization"):
        raise HttpError(401, "UPLOAD_NEEDS_TOKEN", "Uploads need a bearer token (Authorization header)")
    parser = _Parser(request.headers, request.stream(), max_files=MAX_FILES, max_fields=2,
                     max_part_size=MAX_OPERATIONS_BYTES)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise _invalid(f"malformed multipart body: {exc.message[:200]} (at most {MAX_FILES} files)") from exc
    except ClientDisconnect as exc:
        raise HttpError(400, "UPLOAD_TRUNCATED", "the connection closed before the upload was complete") from exc
    if not parser.complete:
        parser.close_all()
        raise HttpError(400, "UPLOAD_TRUNCATED", "the multipart body ends before its closing boundary "
                        "(cut short?); send the request again")
    try:
        operations = _json_field(form, "operations")
        files_map = _json_field(form, "map")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths) for paths in files_map.values()
        ):
            raise _invalid("`map` must be an object of file field name -> list of paths")
        files = {name: value for name, value in form.multi_items() if isinstance(value, UploadFile)}
        absent = [name for name in files_map if name not in files]
        if absent:
            raise HttpError(
                400, "UPLOAD_TRUNCATED",
                f"file part(s) {', '.join(n[:20] for n in absent[:5])} named in `map` did not arrive whole "
                "(the body was cut short?); send the request again",
            )
        if not isinstance(operations, dict):
            read_post("application/json", orjson.dumps(operations))  # the usual refusal (a batch, ...)
        try:
            data = replace_placeholders_with_files(operations, files_map, files)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise _invalid("a `map` path does not lead to a variable of `operations`") from exc
        return _operation_of(data), form
    except BaseException:
        await form.close()
        raise


def _operation_of(data: dict[str, Any]) -> GraphQLRequestData:
    """`read_post`'s checks on an operation whose variables hold files."""
    checked = read_post("application/json", orjson.dumps({k: v for k, v in data.items() if k != "variables"}))
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "BAD_REQUEST", "`variables` must be a JSON object or null")
    return GraphQLRequestData(
        query=checked.query, variables=variables, operation_name=checked.operation_name,
        extensions=checked.extensions,
    )
