"""The hub under uvicorn in its own process, for the benchmark.

    python -m bench.server --config FILE [--host 127.0.0.1] [--port 0]

Builds `create_app(load_settings(config))`, listens (port 0: a free port), and prints
`ready <url>` on stdout once the application has started (after its lifespan
start-up), which is what `hub.processes.start_service` waits for.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import uvicorn

from hub.app import create_app
from hub.settings import ConfigError, load_settings
from hub.shutdown import WS_PER_MESSAGE_DEFLATE


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that announces its URL once it accepts connections."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(f"ready {self._url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        app = create_app(load_settings(args.config, freeze_heap_after_start=True))
    except ConfigError as exc:
        print(f"hub bench server: {exc}", file=sys.stderr)
        return 2
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
    # proto is TCP; without it every keep-alive response waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            ws_per_message_deflate=WS_PER_MESSAGE_DEFLATE)  # as `hub serve`
    _ReadyServer(config, f"http://{host}:{port}").run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
