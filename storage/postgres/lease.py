"""The router's lease on PostgreSQL: one instance's router runs rounds, the others stand by.

Held as a session advisory lock on a dedicated connection (the pool's come and go). The server
releases it when that connection ends, so when the leader stops or dies (its socket closes) a
standby that retries every few seconds takes over; when the leader loses its connection it
stops leading at once and retries like the others. Two routers for a moment (a leader that has
not yet seen its connection drop) assign nothing twice: apply_assignments re-checks under row
locks, as it always has with several instances.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from storage.postgres.pool import CLOSE_TIMEOUT_S, KEEPALIVE_SETTINGS, describe_url

log = logging.getLogger(__name__)
# Any constant works as long as every instance uses the same one (MIGRATION_LOCK_KEY's neighbour).
ROUTER_LOCK_KEY = 0x7473_756E_6167_7502
TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
RETRY_S = 2.0  # how often a standby asks, and the leader checks its connection


async def lead(
    url: str,
    own: str,
    leading: asyncio.Event,
    *,
    connect_timeout_s: float,
    retry_s: float = RETRY_S,
) -> None:
    """Until cancelled: set `leading` while this instance holds the router's lock, clear it
    when it does not."""
    while True:
        try:
            await _lead_once(url, own, leading, connect_timeout_s, retry_s)
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
        ) as exc:
            if leading.is_set():
                log.warning(
                    f"router lease lost at {describe_url(url)}: {type(exc).__name__}",
                    extra={"action": "router_lease_lost"},
                )
        finally:
            leading.clear()
        await asyncio.sleep(retry_s)


async def _lead_once(
    url: str, own: str, leading: asyncio.Event, connect_timeout_s: float, retry_s: float
) -> None:
    conn: Any = await asyncpg.connect(
        url,
        timeout=connect_timeout_s,
        server_settings={"application_name": f"{own}-router", **KEEPALIVE_SETTINGS},
    )
    try:
        while True:
            if await conn.fetchval(TRY_LOCK, ROUTER_LOCK_KEY, timeout=connect_timeout_s):
                break
            await asyncio.sleep(retry_s)  # another instance routes
        log.info("this instance routes", extra={"action": "router_lease_taken"})
        leading.set()
        while True:  # a dead connection is seen at the next check, at the latest
            await asyncio.sleep(retry_s)
            await conn.fetchval("SELECT 1", timeout=connect_timeout_s)
    finally:
        leading.clear()
        if not conn.is_closed():
            try:  # which releases the lock, if this connection held it
                await conn.close(timeout=CLOSE_TIMEOUT_S)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
