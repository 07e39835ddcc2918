"""The one way the hub stops a background task it started."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_task(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` (if any) and wait until it has finished."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
