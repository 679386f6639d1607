"""LISTEN for other instances' events on a dedicated connection (see migration 3's trigger).

The pool's connections come and go; a listener needs one connection that stays, and when it
drops (a server restart) the listener reconnects with capped backoff and reports a change at
once, since something may have been written while nobody listened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from storage.base import KeyedInbound
from storage.intake_routing import Threads
from storage.postgres.pool import CLOSE_TIMEOUT_S, KEEPALIVE_SETTINGS, describe_url

log = logging.getLogger(__name__)
CHANNEL = "tsunagu_events"
# How often the listener asks its connection whether it is alive: a connection that died
# without closing would otherwise leave this instance deaf to the others (the routing
# instance to their changes) until the kernel noticed.
PING_S = 10.0


# What an intake batch's transaction adds to its application_name (so to the trigger's notice:
# no migration), telling the routing instance more than "route": QUIET, the batch left nothing
# waiting and gave nobody anything (her new messages in conversations someone has); ARRIVED, it
# only opened conversations left waiting, none routed at intake, with the highest priority
# among them and the earliest time they queued at (Router.arrived: a full desk's queue is not
# read again for them). application_name keeps 63 bytes: the instance's 20 and this fit.
# As a clause, so that a statement the batch runs anyway sets it (storage.postgres.intake).
TAG_SETTING = "set_config('application_name', current_setting('application_name') || {}, true)"
QUIET = "+quiet"
ARRIVED = "+arrived:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Arrival:
    """Another instance's intake opened conversations left waiting, and nothing else."""

    priority: int
    queued_at: datetime


def intake_tag(threads: Threads, items: Iterable[KeyedInbound]) -> str:
    """The tag of an intake batch's notice (see QUIET, ARRIVED; "" says only "route")."""
    if threads.assigned:
        return ""
    if not threads.unassigned:
        return QUIET
    opened = {threads.conversation_of[identity] for identity in threads.opened}
    if not threads.unassigned <= opened:
        return ""  # a message in a conversation already waiting: its needs may change
    stored = list(items)
    priority = max(item.labels.priority for item in stored)
    # the earliest of the batch's messages: no later than any conversation it opened queued at
    at = min(item.message.received_at for item in stored)
    return f"{ARRIVED}{priority}:{(at - _EPOCH) // timedelta(microseconds=1)}"


def news_from(payload: str, own: str) -> bool | Arrival | None:
    """None for our own news; else whether the router may have work ("route"), or the
    Arrival an intake batch said was all it did."""
    writer, _, kind = payload.rpartition(" ")
    instance, plus, tag = writer.partition("+")
    if instance == own:
        return None
    if kind != "route" or f"{plus}{tag}" == QUIET:
        return False
    if f"{plus}{tag}".startswith(ARRIVED):
        try:
            priority, micros = tag.removeprefix(ARRIVED[1:]).split(":")
            return Arrival(int(priority), _EPOCH + timedelta(microseconds=int(micros)))
        except ValueError:  # cut short (application_name's limit) or not ours: route
            return True
    return True


async def listen(
    url: str,
    own: str,
    on_change: Callable[[bool], None],
    *,
    connect_timeout_s: float,
    retry_max_s: float = 30.0,
    on_arrival: Callable[[int, datetime], None] | None = None,
) -> None:
    """Call on_change(needs_routing) for each other instance's committed events, or
    on_arrival(priority, queued_at) for an intake's that only left new conversations waiting
    (on_change(True) without one), until cancelled."""
    delay_s = 1.0
    while True:
        try:
            await _listen_once(url, own, on_change, on_arrival, connect_timeout_s)
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
    url: str,
    own: str,
    on_change: Callable[[bool], None],
    on_arrival: Callable[[int, datetime], None] | None,
    connect_timeout_s: float,
) -> None:
    """Listen on one connection until the server drops it."""
    conn = await asyncpg.connect(
        url,
        timeout=connect_timeout_s,
        server_settings={"application_name": own, **KEEPALIVE_SETTINGS},
    )
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def dropped(_conn: Any) -> None:
        if not lost.done():
            lost.set_result(None)

    def heard(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        news = news_from(payload, own)
        if isinstance(news, Arrival):
            if on_arrival is None:
                on_change(True)
            else:
                on_arrival(news.priority, news.queued_at)
        elif news is not None:
            on_change(news)

    try:
        conn.add_termination_listener(dropped)
        await conn.add_listener(CHANNEL, heard)
        on_change(True)  # whatever happened while nobody listened
        while not lost.done():
            try:
                await asyncio.wait_for(asyncio.shield(lost), PING_S)
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=connect_timeout_s)
    finally:
        if not conn.is_closed():
            try:
                await conn.close(timeout=CLOSE_TIMEOUT_S)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
