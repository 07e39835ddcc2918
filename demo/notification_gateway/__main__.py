"""`python -m demo.notification_gateway --secret whsec_... --api-key KEY --record FILE [--host H] [--port P]`"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from demo.notification_gateway.app import create_app
from demo.service_common.server import _bind, _port, _serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.notification_gateway",
                                     description="Sample notification gateway (records signed webhooks).")
    parser.add_argument("--secret", required=True, help="the Standard Webhooks secret (whsec_<base64>)")
    parser.add_argument("--api-key", required=True, help="value expected in X-API-Key for /messages")
    parser.add_argument("--record", required=True, type=Path, help="JSON-lines file of received messages")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    app = create_app(secret=args.secret, api_key=args.api_key, record_file=args.record)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"gateway: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    with sock:
        asyncio.run(_serve(app, sock, args.host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
