"""The gateway's HTTP side.

- `POST /webhook`: a signed notification (Standard Webhooks headers `webhook-id`,
  `webhook-timestamp`, `webhook-signature`); a bad or missing signature, or a timestamp
  more than 5 minutes off, is 401 and nothing is recorded; a repeated `webhook-id` is
  answered 200 without being recorded again; otherwise 204.
- `GET /messages` (header `X-API-Key`): what was recorded, oldest first.
- `POST /_admin/faults` (`X-API-Key`) `{"down": bool}`: while down, `/webhook` answers 503
  (to watch the hub retry); `GET /health`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _error(status: int, kode: str, pesan: str) -> JSONResponse:
    return JSONResponse({"error": {"kode": kode, "pesan": pesan}}, status_code=status)


def create_app(*, secret: str, api_key: str, record_file: Path) -> Starlette:
    webhook = Webhook(secret)
    state: dict[str, Any] = {"down": False, "seen": set()}
    if record_file.exists():
        for line in record_file.read_text().splitlines():
            if line.strip():
                state["seen"].add(json.loads(line)["id"])

    def authorised(request: Request) -> bool:
        return request.headers.get("x-api-key") == api_key

    async def receive(request: Request) -> Response:
        if state["down"]:
            return _error(503, "GANGGUAN", "gateway sedang tidak tersedia")
        body = await request.body()
        try:
            payload = webhook.verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            return _error(401, "TANDA_TANGAN_TIDAK_VALID", str(exc))
        message_id = request.headers["webhook-id"]
        if message_id in state["seen"]:
            return JSONResponse({"status": "duplicate"})
        state["seen"].add(message_id)
        with record_file.open("a") as out:
            out.write(json.dumps({"id": message_id, "received": time.time(), "payload": payload}) + "\n")
        return Response(status_code=204)

    async def messages(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "API_KEY_INVALID", "X-API-Key salah")
        lines = record_file.read_text().splitlines() if record_file.exists() else []
        return JSONResponse({"data": [json.loads(line) for line in lines if line.strip()]})

    async def faults(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "API_KEY_INVALID", "X-API-Key salah")
        if request.method == "POST":
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("down", False), bool):
                return _error(400, "PERMINTAAN_TIDAK_VALID", "down harus boolean")
            state["down"] = bool(body.get("down", False))
        return JSONResponse({"down": state["down"]})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[
        Route("/webhook", receive, methods=["POST"]),
        Route("/messages", messages, methods=["GET"]),
        Route("/_admin/faults", faults, methods=["GET", "POST"]),
        Route("/health", health),
    ])
