"""kill -9 during a web-chat burst, then a restart: nothing acknowledged is lost, nothing is
stored twice (SQLite, the default store)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from tests.faults.serving import Consulter, crowd, resend_until_acked, serving, until

SESSIONS = 8
ACKS_BEFORE_KILL = 60


async def _burst(consulter: Consulter) -> None:
    """Write until the socket is gone (the kill)."""
    while await consulter.send_new() == "ack":
        pass


def _stored(db: Path) -> dict[str, tuple[int, int]]:
    """external id -> (message id, how many rows), for every inbound message."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT external_id, min(id), count(*) FROM messages "
            "WHERE direction = 'inbound' GROUP BY external_id"
        ).fetchall()
    return {external: (mid, n) for external, mid, n in rows}


async def test_kill_9_mid_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    consulters = crowd(SESSIONS)
    async with aiohttp.ClientSession() as http:
        async with serving(tmp_path) as first:
            for c in consulters:
                assert await c.connect(http, first.url)
            bursts = [asyncio.create_task(_burst(c)) for c in consulters]
            await until(
                consulters,
                lambda: sum(len(c.acked) for c in consulters) >= ACKS_BEFORE_KILL,
                timeout_s=60,
                what=f"{ACKS_BEFORE_KILL} acks",
            )
            first.proc.kill()  # SIGKILL: no drain, no final round, no close
            assert await first.proc.wait() == -9
            await asyncio.gather(*bursts)
        in_flight = sum(len(c.unacked) for c in consulters)
        acked_before = {cid: mid for c in consulters for cid, mid in c.acked.items()}

        async with serving(tmp_path) as second:
            await resend_until_acked(consulters, http, second.url, timeout_s=60)
            for c in consulters:
                await c.close()
            assert await second.stop() == 0

    stored = _stored(tmp_path / "tsunagu-data" / "inbox.db")
    by_client = {external.rpartition(":")[2]: value for external, value in stored.items()}
    # Everything acknowledged before the kill is there, once, under the id it was acked with.
    for client_id, message_id in acked_before.items():
        assert by_client[client_id] == (message_id, 1)
    # And what was in flight at the kill is there exactly once after the resends.
    sent = {cid for c in consulters for cid in c.sent}
    assert set(by_client) == sent
    assert all(n == 1 for _, n in stored.values())
    assert len(acked_before) >= ACKS_BEFORE_KILL and in_flight <= SESSIONS
