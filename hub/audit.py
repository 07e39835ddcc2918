"""`hub audit verify|prune`: checking the access ledger's chain and applying retention.

Checkpoints left by pruning are signed with the hub issuer's key (a compact JWS over
the checkpoint's canonical bytes) and verified with its public keys. `verify` walks the
chain, then holds it to the signed head checkpoints kept outside the store
(`hub.audit_checkpoints`): a chain shorter than one of them, or with another entry at
its seq, is a rollback."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from joserfc import jws
from joserfc.errors import JoseError

from auth.issuer import DevelopmentIssuer
from auth.ledger import LedgerUnavailable, prune, verify
from hub.audit_checkpoints import CheckpointReport, check_checkpoints, load_keys
from hub.cli_config import find_config, missing_store
from hub.identity import hub_issuer
from hub.migrations import prepare_store
from hub.settings import ConfigError, Settings
from hub.store import create_store_engine


def checkpoint_signer(issuer: DevelopmentIssuer):  # type: ignore[no-untyped-def]
    keys = issuer.signing_key_set()

    def sign(payload: bytes) -> str:
        return jws.serialize_compact({"alg": "ES256"}, payload, keys)

    return sign


def checkpoint_verifier(issuer: DevelopmentIssuer):  # type: ignore[no-untyped-def]
    keys = issuer.public_key_set()

    def check(payload: bytes, signature: str) -> bool:
        try:
            return jws.deserialize_compact(signature, keys, algorithms=["ES256"]).payload == payload
        except (JoseError, ValueError):
            return False

    return check


def _print_anchors(report: CheckpointReport) -> None:
    latest = report.latest
    if report.ok and latest is not None:
        print(f"head checkpoints: {report.checked} agree with the chain"
              + (f", {report.pruned} lie below the retention checkpoint" if report.pruned else "")
              + f"; latest seq {latest.seq} ({latest.head[:16]}…) signed {latest.time:%Y-%m-%d %H:%M:%S} UTC"
              + f" ({report.file})")
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.problems:
        print(f"HEAD CHECKPOINTS FAILED ({len(report.problems)} problem(s), {report.file}):")
        for problem in report.problems:
            print(f"  {problem}")


async def run_audit_command(settings: Settings, args: argparse.Namespace) -> int:
    missing = await missing_store(settings)  # checked first: opening a store would create it
    if missing is not None:
        lookup = find_config(args.config, args.data_dir)
        raise ConfigError(f"{missing}, so no access ledger to {args.audit_command} (nothing was created); "
                          f"{lookup.describe()}. `hub demo` or `hub serve` creates the store; or pass "
                          "--config / --data-dir")
    engine = create_store_engine(settings.resolved_store_url)
    issuer = hub_issuer(settings)
    try:
        await prepare_store(engine, settings.store_migrations)
        if args.audit_command == "verify":
            started = time.perf_counter()
            keys = await load_keys(args.jwks) if args.jwks else issuer.public_key_set()
            file = args.checkpoints or settings.resolved_checkpoint_file
            try:
                result = await verify(engine, verifier=checkpoint_verifier(issuer))
                anchors = await check_checkpoints(engine, file=file, sources=args.checkpoint, keys=keys)
            except LedgerUnavailable as exc:
                raise ConfigError(f"the ledger cannot be read: {exc}") from exc
            seconds = time.perf_counter() - started
            if args.json:
                print(json.dumps({**result.to_dict(), "ok": result.ok and anchors.ok, "chain_ok": result.ok,
                                  "head_checkpoints": anchors.to_dict(), "seconds": round(seconds, 3)},
                                 default=str))
            else:
                if result.ok:
                    print(f"{'ledger' if anchors.ok else 'hash chain'} intact: {result.entries} entries "
                          f"verified in {seconds:.2f} s "
                          f"(head seq {result.head_seq})")
                else:
                    print(f"LEDGER BROKEN at seq {result.broken_seq}: {result.problem}: {result.detail}")
                _print_anchors(anchors)
            return 0 if result.ok and anchors.ok else 1
        if args.days < 1:
            raise ConfigError("--days must be at least 1")
        before = datetime.now(UTC) - timedelta(days=args.days)
        try:
            checkpoint = await prune(engine, before=before, signer=checkpoint_signer(issuer))
        except LedgerUnavailable as exc:
            raise ConfigError(f"nothing pruned: {exc}") from exc
        if checkpoint is None:
            print(f"nothing older than {before:%Y-%m-%d %H:%M} UTC to prune")
        else:
            print(f"pruned {checkpoint.count} entries up to seq {checkpoint.last_seq}; "
                  f"signed checkpoint {checkpoint.last_hash[:16]}...")
        return 0
    finally:
        await engine.dispose()
