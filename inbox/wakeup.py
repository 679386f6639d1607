"""The background services' one way to sleep: until something wakes them, or a timeout."""

from __future__ import annotations

import asyncio


async def woken(wake: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `wake` is set (True) or timeout_s has passed (False); the caller clears it."""
    try:
        async with asyncio.timeout(timeout_s):
            await wake.wait()
    except TimeoutError:
        return False
    return True
