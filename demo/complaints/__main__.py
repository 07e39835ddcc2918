"""`python -m demo.complaints --db URL --api-key KEY [--host H] [--port P] ...`"""

from __future__ import annotations

import sys

from demo.complaints.app import create_app
from demo.service_common.server import main

if __name__ == "__main__":
    sys.exit(
        main(
            None,
            prog="python -m demo.complaints",
            description="Sample complaint service (LAPOR!-style REST API).",
            create_app=create_app,
            source="complaints",
        )
    )
