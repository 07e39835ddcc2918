"""`POST /hooks/sources/{source}`: a source's signed wake-up (issue 25).

A source that can push signs a Standard Webhook after each change (headers
`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` under the source's secret, `events.webhook_secrets`). The webhook is
a wake-up, not the data: a valid one makes the lease holder read that source's change
feed now (hub.events.service), and its body is not read beyond the signature (the
position it names is logged at debug level). The feed and its stored position decide
what becomes an event, so a lost, forged, replayed or repeated webhook loses or repeats
none.

    204             accepted (the feed is read at once)
    401 BAD_SIGNATURE   headers missing, timestamp more than 5 minutes off (the
                        `standardwebhooks` tolerance), or no signature matches
    404 NOT_FOUND       an unknown source, or one without a secret: the answer of any
                        unknown path, so it tells nothing about which sources exist
    413 PAYLOAD_TOO_LARGE   a body over HOOK_BODY_BYTES
    429 RATE_LIMITED    past `rate_limits.public.source_hook` for the address

Each answer but 413 and 429 is counted in `simpul_source_webhooks{source,outcome}`
(outcome accepted, bad_signature or unknown; source `other` for a name that is none).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from pydantic import SecretStr
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response

from hub.json_errors import json_error
from hub.request_context import request_id_of
from hub.settings import ConfigError
from schema.events import EVENT_SOURCES

log = logging.getLogger("simpul.events")

PATH = "/hooks/sources/{source}"
HOOK_BODY_BYTES = 4096
BAD_SIGNATURE = "BAD_SIGNATURE"
ACCEPTED, REFUSED, UNKNOWN = "accepted", "bad_signature", "unknown"

_REASONS = {  # the library's words, as the hub says them
    "Missing required headers": "webhook-id, webhook-timestamp and webhook-signature are required",
    "Invalid Signature Headers": "webhook-timestamp is not a Unix time",
    "Message timestamp too old": "webhook-timestamp is more than 5 minutes old",
    "Message timestamp too new": "webhook-timestamp is more than 5 minutes ahead",
}


class SourceHooks:
    """The endpoint over the configured secrets; `wake(source)` on a valid webhook,
    `count(source, outcome)` on every answer it gives."""

    def __init__(self, secrets: Mapping[str, SecretStr], *, wake: Callable[[str], Awaitable[None]],
                 count: Callable[[str, str], None] = lambda source, outcome: None) -> None:
        self._verifiers = {source: _verifier(source, secret) for source, secret in secrets.items()}
        self._wake = wake
        self._count = count

    async def endpoint(self, request: Request) -> Response:
        source = str(request.path_params.get("source", ""))
        label = source if source in EVENT_SOURCES else "other"
        webhook = self._verifiers.get(source)
        if webhook is None:
            self._count(label, UNKNOWN)
            return json_error(404, "NOT_FOUND", f"No such path: {request.url.path[:100]}",
                              request_id=request_id_of(request.scope))
        body = await request.body()
        try:
            webhook.verify(body, dict(request.headers), json_parse=False)
        except WebhookVerificationError as exc:
            self._count(label, REFUSED)
            reason = _REASONS.get(str(exc), "no signature matches (webhook-signature)")
            return json_error(401, BAD_SIGNATURE, f"The webhook is not signed for this source: {reason}",
                              request_id=request_id_of(request.scope))
        self._count(label, ACCEPTED)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("webhook from %s (position %s)", source, _position(body))
        await self._wake(source)
        return Response(status_code=204)


def _verifier(source: str, secret: SecretStr) -> Webhook:
    """The secret's verifier; ConfigError (at start-up, without the secret) for an
    unknown source or a value that is not `whsec_` and 24 to 64 bytes in base64."""
    if source not in EVENT_SOURCES:
        raise ConfigError(f"events.webhook_secrets: unknown source {source[:40]!r}; "
                          f"sources with change feeds: {', '.join(EVENT_SOURCES)}")
    value = secret.get_secret_value()
    try:
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True) if value.startswith("whsec_") else b""
    except ValueError:
        key = b""
    if not 24 <= len(key) <= 64:
        raise ConfigError(f"events.webhook_secrets.{source}: not a Standard Webhooks secret "
                          "(`whsec_` and 24 to 64 random bytes in base64)")
    return Webhook(value)


def _position(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return "?"
    return str(payload.get("position", "?"))[:40] if isinstance(payload, dict) else "?"


__all__ = ["BAD_SIGNATURE", "HOOK_BODY_BYTES", "PATH", "SourceHooks"]
