"""`hub notifications`: the outbox as operators see it (counts by state, the newest
messages with their attempts and last error; never a NIK)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from hub.notifications.outbox import STATES, outbox_counts, recent_messages
from hub.settings import Settings
from hub.store import create_store_engine, create_tables


def _when(epoch: object) -> str:
    return datetime.fromtimestamp(float(epoch), timezone.utc).isoformat(timespec="seconds") if epoch else "-"


async def run_notifications_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = create_store_engine(settings.resolved_store_url)
    try:
        await create_tables(engine)
        counts = await outbox_counts(engine)
        messages = await recent_messages(engine, state=args.state, limit=args.limit)
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps({"counts": counts, "messages": messages}, default=str))
        return 0
    print("  ".join(f"{state}: {counts[state]}" for state in STATES))
    for m in messages:
        print(f"{m['id']}\t{m['webhook_id']}\t{m['state']}\tevent {m['event_id']}\t{m['case_number']}"
              f"\tattempts {m['attempts']}"
              f"\tqueued {_when(m['created'])}\tdelivered {_when(m['delivered'])}\t{m['last_error'] or ''}")
    return 0
