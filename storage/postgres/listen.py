"""LISTEN for other instances' events on a dedicated connection (see migration 3's trigger).

The pool's connections come and go; a listener needs one connection that stays, and when it
drops (a server restart) the listener reconnects with capped backoff and reports a change at
once, since something may have been written while nobody listened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from storage.postgres.pool import describe_url

log = logging.getLogger(__name__)
CHANNEL = "tsunagu_events"


def news_from(payload: str, own: str) -> bool | None:
    """None for our own news; else whether the router may have work ("route")."""
    writer, _, kind = payload.rpartition(" ")
    if writer == own:
        return None
    return kind == "route"


async def listen(
    url: str,
    own: str,
    on_change: Callable[[bool], None],
    *,
    connect_timeout_s: float,
    retry_max_s: float = 30.0,
) -> None:
    """Call on_change(needs_routing) for each other instance's committed events, until
    cancelled."""
    delay_s = 1.0
    while True:
        try:
            await _listen_once(url, own, on_change, connect_timeout_s)
            delay_s = 1.0
            log.warning("event listener disconnected", extra={"action": "listen_lost"})
        except (
            OSError,
            TimeoutError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # the client's state after a connection broke mid-way
        ) as exc:
            log.warning(
                f"cannot listen at {describe_url(url)}, retrying in {delay_s:.0f} s: "
                f"{type(exc).__name__}",
                extra={"action": "listen_retry", "retry_in_s": delay_s},
            )
        await asyncio.sleep(delay_s)
        delay_s = min(retry_max_s, delay_s * 2)


async def _listen_once(
    url: str, own: str, on_change: Callable[[bool], None], connect_timeout_s: float
) -> None:
    """Listen on one connection until the server drops it."""
    conn = await asyncpg.connect(
        url, timeout=connect_timeout_s, server_settings={"application_name": own}
    )
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def dropped(_conn: Any) -> None:
        if not lost.done():
            lost.set_result(None)

    def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        news = news_from(payload, own)
        if news is not None:
            on_change(news)

    try:
        conn.add_termination_listener(dropped)
        await conn.add_listener(CHANNEL, heard)
        on_change(True)  # whatever happened while nobody listened
        await lost
    finally:
        if not conn.is_closed():
            await conn.close()
