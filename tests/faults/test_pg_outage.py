"""A PostgreSQL restart and a long outage under web-chat traffic: the server stays up, says
not ready and busy meanwhile, and catches up afterwards. The database is a cluster this test
starts itself (tests/faults/own_pg.py), never the machine's.

The outage lasts TSUNAGU_FAULT_OUTAGE_S seconds (30 by default, as in the issue): longer than
every backoff's cap (database.connect_backoff_max_s = 1 here), so each worker has given up
its first attempts and waits; shorter runs are fine for local iterations."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from storage.postgres.store import PostgresStore
from tests.factories import T0, new_user
from tests.faults.own_pg import OwnPostgres, own_postgres
from tests.faults.serving import (
    Consulter,
    Server,
    crowd,
    resend_until_acked,
    serving,
    until,
)

SESSIONS = 6
OUTAGE_S = float(os.environ.get("TSUNAGU_FAULT_OUTAGE_S", "30"))


async def _traffic(
    c: Consulter, http: aiohttp.ClientSession, url: str, stop: asyncio.Event
) -> None:
    """Write as the page does: one message at a time, the same one again after busy, a new
    socket (same session) after a lost one."""
    pending: str | None = None
    while not stop.is_set():
        if c.ws is None and not await c.connect(http, url):
            await asyncio.sleep(0.2)
            continue
        answer = await (c.send(pending) if pending else c.send_new())
        pending = None if answer == "ack" else pending or c.sent[-1]
        await asyncio.sleep(0.2 if answer != "ack" else 0.05)  # pacing, 2 shared cores


async def _ready_is(
    server: Server, http: aiohttp.ClientSession, status: int, timeout_s: float
) -> None:
    async with asyncio.timeout(timeout_s):
        while await server.ready(http) != status:
            assert server.alive()
            await asyncio.sleep(0.2)


async def _setup(cwd: Path, pg: OwnPostgres) -> None:
    (cwd / "config.toml").write_text(
        f'[database]\nurl = "{pg.url}"\nconnect_backoff_max_s = 1.0\n'
        "[intake]\nack_timeout_s = 3.0\n"
        "[shutdown]\ndrain_s = 3.0\n"
        # the traffic writes faster than one consulter may (30 frames a minute by default)
        "[webchat]\nframes_per_minute = 6000\nmessages_per_day = 100000\n"
    )
    # One counselor, on duty from the start (no browser signs in here), written in this process:
    # a `tsunagu user add` subprocess cost 2 to 4 s of start-up (tests/e2e/test_cli.py runs it).
    async with PostgresStore(pg.url) as store:
        await store.migrate()
        await store.create_user(new_user("sato", capacity=50), now=T0)


async def _check_stored_and_routed(url: str, consulters: list[Consulter]) -> None:
    acked = {cid: mid for c in consulters for cid, mid in c.acked.items()}
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT external_id, id FROM messages WHERE direction = 'inbound'")
        by_client = {r["external_id"].rpartition(":")[2]: r["id"] for r in rows}
        assert len(by_client) == len(rows)  # nothing stored twice
        assert by_client == acked  # every acknowledged message, under the id it was acked with
        async with asyncio.timeout(20):  # the router's round after the outage
            while True:
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM conversations WHERE status <> 'assigned'"
                )
                if not waiting:
                    break
                await asyncio.sleep(0.2)
        assert await conn.fetchval("SELECT count(*) FROM conversations") == len(consulters)
    finally:
        await conn.close()


@pytest.mark.timeout(240)  # a 30 s outage, a restart, initdb and the catching up
async def test_restart_and_outage_under_traffic(tmp_path: Path) -> None:
    with own_postgres() as pg:
        await _setup(tmp_path, pg)
        consulters = crowd(SESSIONS)

        def acks() -> int:
            return sum(len(c.acked) for c in consulters)

        def busy() -> int:
            return sum(c.busy for c in consulters)

        stop = asyncio.Event()
        async with aiohttp.ClientSession() as http, serving(tmp_path) as server:
            await _ready_is(server, http, 200, 10)
            traffic = [asyncio.create_task(_traffic(c, http, server.url, stop)) for c in consulters]
            await until(consulters, lambda: acks() >= 30, timeout_s=30, what="first acks")

            await asyncio.to_thread(pg.restart)
            before = acks()
            await until(
                consulters,
                lambda: acks() >= before + 30,
                timeout_s=30,
                what="acks after the restart",
            )
            assert server.alive()

            await asyncio.to_thread(pg.stop)
            began = time.monotonic()
            await _ready_is(server, http, 503, 10)
            busy_before = busy()
            while time.monotonic() - began < OUTAGE_S:
                assert server.alive()
                await asyncio.sleep(0.5)
            assert await server.ready(http) == 503
            assert busy() > busy_before, "chat did not answer busy during the outage"

            await asyncio.to_thread(pg.start)
            await _ready_is(server, http, 200, 30)
            before = acks()
            await until(
                consulters,
                lambda: acks() >= before + 20,
                timeout_s=30,
                what="acks after the outage",
            )
            stop.set()
            await asyncio.gather(*traffic)
            await resend_until_acked(consulters, http, server.url, timeout_s=30)
            for c in consulters:
                await c.close()
            await _check_stored_and_routed(pg.url, consulters)
            # SIGTERM while the database is down again: a clean stop all the same
            await asyncio.to_thread(pg.stop)
            await _ready_is(server, http, 503, 10)
            assert await server.stop() == 0
        actions = server.actions()
        assert "worker_db_unavailable" in actions and "worker_db_recovered" in actions
        assert "fault test" not in "".join(server.lines)  # no bodies in the log
