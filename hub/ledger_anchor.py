"""Anchoring the access ledger's head outside the store, while the hub runs.

Every `interval_seconds`, once this instance has committed `every_entries` entries since
the last checkpoint, at start-up and at shutdown, the hub signs the chain head with its
issuer key (a compact JWS, `typ` `CHECKPOINT_TYPE`, verifiable with the keys at
`/.well-known/jwks.json`) and appends it to the checkpoint file (`auth.ledger.anchors`).
The latest is served at `/.well-known/ledger-checkpoint` and shown on the public page
(each instance serves the latest it wrote or found in its file at start-up; any of them
verifies against the chain).

With several instances on one PostgreSQL store, each signs the head it reads from the
shared head row: every checkpoint describes the one chain. Instances sharing a file
append under its lock (in head order); instances on other machines keep files of their
own, each line verifiable against the chain all the same.

A checkpoint that cannot be written does not stop the hub: it is logged, counted
(`simpul_ledger_checkpoints{outcome="failed"}`) and tried again at the next trigger.
Requests do not depend on it — each response's entries are already durable in the
store before the data leaves (the fail-closed rule); a checkpoint only narrows what a
later rollback could hide, and a hub that stopped serving whenever its disk was full or
its key file unreadable would turn an anchoring fault into an outage. A head that went
back behind the file's last checkpoint is logged as an error and never signed; nor is a
line linked to a last line the issuer's published keys do not verify (after a key
rotation, keep the old key until a checkpoint signed with the new one is in the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from auth.issuer import DevelopmentIssuer
from auth.ledger.anchor_file import CheckpointFile
from auth.ledger.anchors import Anchored, HeadCheckpoint, anchor_head
from auth.ledger.chain import format_time
from hub.metrics import HubMetrics

log = logging.getLogger("simpul.ledger")

CHECKPOINT_TYPE = "simpul-ledger-checkpoint"
CHECKPOINT_PATH = "/.well-known/ledger-checkpoint"


def head_signer(issuer: DevelopmentIssuer) -> Callable[[bytes], str]:
    """Signs a head checkpoint's payload with the issuer's current key."""

    def sign(payload: bytes) -> str:
        return jws.serialize_compact(
            {"alg": issuer.algorithm, "typ": CHECKPOINT_TYPE}, payload, issuer.signing_key_set()
        )

    return sign


def head_verifier(keys: KeySet | Callable[[], KeySet]) -> Callable[[bytes, str], bool]:
    """Checks a head checkpoint's JWS against `keys` (a key set, or a function giving
    the current one): the right type, an ES256 signature, and exactly `payload`."""

    def check(payload: bytes, signature: str) -> bool:
        key_set = keys() if callable(keys) else keys
        try:
            found = jws.deserialize_compact(signature, key_set, algorithms=["ES256"])
        except (JoseError, ValueError):
            return False
        return found.headers().get("typ") == CHECKPOINT_TYPE and found.payload == payload

    return check


class HeadAnchor:
    """The running hub's checkpoints: the triggers, the latest, its public endpoint."""

    def __init__(
        self,
        engine: AsyncEngine,
        file: CheckpointFile,
        *,
        issuer: DevelopmentIssuer,
        metrics: HubMetrics,
        interval_seconds: float,
        every_entries: int,
    ) -> None:
        self._engine = engine
        self._file = file
        self._sign = head_signer(issuer)
        self._verify = head_verifier(issuer.public_key_set)
        self._metrics = metrics
        self._interval = interval_seconds
        self._every = every_entries
        self._since = 0  # entries committed here since the last checkpoint
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self.latest: HeadCheckpoint | None = None

    def entries_committed(self, count: int) -> None:
        """The ledger writer's commit hook (on the event loop)."""
        self._since += count
        if self._every and self._since >= self._every and self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        self._wake, self._lock = asyncio.Event(), asyncio.Lock()
        await self.anchor()  # also notices a rollback that happened while the hub was down
        if self._interval or self._every:
            self._task = asyncio.create_task(self._run(), name="ledger-head-checkpoints")

    async def stop(self) -> None:
        """Stop the triggers and write the last checkpoint (after the writer has closed)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lock is not None:
            await self.anchor()

    async def anchor(self) -> Anchored | None:
        """One checkpoint, if the head moved; never raises (see the module's docstring)."""
        if self._lock is None:
            raise RuntimeError("HeadAnchor.start() was not called")
        async with self._lock:
            self._since = 0
            try:
                done = await anchor_head(self._engine, self._file, signer=self._sign, verifier=self._verify)
            except Exception as exc:  # noqa: BLE001 - a checkpoint must not stop the hub
                self._metrics.ledger_checkpoints.labels("failed").inc()
                log.error("ledger head checkpoint not written to %s: %s: %s",
                          self._file.path, exc.__class__.__name__, exc)
                return None
        self._metrics.ledger_checkpoints.labels(done.outcome).inc()
        if done.outcome == "refused":
            last = done.checkpoint
            log.error("LEDGER ROLLBACK? no checkpoint signed: %s (the last checkpoint in %s, signed %s; "
                      "run `hub audit verify`)", done.detail, self._file.path,
                      "?" if last is None else format_time(last.time))
        if done.checkpoint is not None and done.checkpoint.signed_by(self._verify):
            self.latest = done.checkpoint
            self._metrics.ledger_checkpoint_seq.set(done.checkpoint.seq)
        return done

    async def _run(self) -> None:
        wake = self._wake
        if wake is None:
            raise RuntimeError("HeadAnchor.start() was not called")
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._interval or None)
            wake.clear()
            await self.anchor()

    async def endpoint(self, request: Request) -> JSONResponse:
        """`GET /.well-known/ledger-checkpoint`: the latest signed head, or 404."""
        headers = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
        if self.latest is None:
            return JSONResponse({"error": "no_checkpoint", "message": "no ledger checkpoint has been signed yet"},
                                status_code=404, headers=headers)
        return JSONResponse({**self.latest.to_record(), "jwks_uri": "/.well-known/jwks.json"}, headers=headers)
