"""`python -m demo ...` (see demo/cli.py)."""

from __future__ import annotations

import sys

from demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
