"""`python -m demo.licensing --db URL --api-key KEY [--host H] [--port P] ...`"""

from __future__ import annotations

import sys

from demo.licensing.app import create_app
from demo.service_common.server import main

if __name__ == "__main__":
    sys.exit(
        main(
            None,
            prog="python -m demo.licensing",
            description="Sample licensing service (SiCantik-style REST API).",
            create_app=create_app,
            source="licensing",
        )
    )
