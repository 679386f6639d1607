"""The deadline watcher's pass under traffic (issue 18): 10,000 open conversations, 7,500 of
them waiting, new messages and replies between passes; ms per pass and rows read.

    python -m inbox.tools.bench_deadlines sqlite
    python -m inbox.tools.bench_deadlines postgresql://postgres@127.0.0.1:5432/postgres

Public store API only, so that the same script times an older checkout (PYTHONPATH). On
PostgreSQL it makes a database of its own on that server and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from inbox.core.model import ChannelKind, ConversationId, InboundMessage, NewUser, Role
from inbox.deadlines import DeadlineWatcher
from routing.deadlines import ResponseTargets
from routing.hours import ALWAYS_OPEN
from storage.base import KeyedInbound, Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore

OPEN, ANSWERED = 10_000, 2_500  # 7,500 waiting
PASSES = 30
ARRIVING, REPLIED = 20, 5  # per pass: new messages (half from new consulters), replies


def message(sender: str, at: datetime) -> KeyedInbound:
    msg = InboundMessage(
        channel=ChannelKind.WEBCHAT,
        external_id=secrets.token_hex(8),
        sender=sender,
        body="x",
        received_at=at,
    )
    return KeyedInbound(message=msg, identity_hash=hashlib.sha256(sender.encode()).hexdigest())


@asynccontextmanager
async def opened(where: str) -> AsyncIterator[tuple[Store, Callable[[str], Any]]]:
    """The store, and how to run one statement on its database beside it (the answered)."""
    if where == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "inbox.db"
            async with SqliteStore(path) as lite:
                await lite.migrate()

                async def sql(text: str) -> None:
                    await lite.database.write(lambda tx: tx.execute(text))

                yield lite, sql
        return
    name = f"bench_deadlines_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(where)
    await admin.execute(f"CREATE DATABASE {name}")
    url = where.rsplit("/", 1)[0] + "/" + name
    try:
        async with PostgresStore(url) as store:
            await store.migrate()
            conn = await asyncpg.connect(url)

            async def run(text: str) -> None:
                await conn.execute(text)

            try:
                yield store, run
            finally:
                await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


class Counted:
    """Rows the watcher reads through the store, by call: conversations and events."""

    def __init__(self, store: Store, *, uncapped: bool) -> None:
        self.rows: dict[str, int] = {}
        self._uncapped = uncapped  # the old rescan without its 2,000 cap: every one, each pass
        self.ms: dict[str, float] = {}
        for name in ("awaiting_answers", "awaiting_among", "feed_events", "apply_deadlines"):
            if hasattr(store, name):
                setattr(store, name, self._counting(name, getattr(store, name)))

    def _counting(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        async def counted(*args: Any, **kw: Any) -> Any:
            if self._uncapped and name == "awaiting_answers":
                kw["limit"] = 1_000_000
            t = time.perf_counter()
            found = await call(*args, **kw)
            self.ms[name] = self.ms.get(name, 0.0) + 1000 * (time.perf_counter() - t)
            if name != "apply_deadlines":
                n = len(found.events) if hasattr(found, "events") else len(found)
                self.rows[name] = self.rows.get(name, 0) + n
            return found

        return counted

    def take(self) -> str:
        taken, self.rows = self.rows, {}
        return ", ".join(f"{k} {v}" for k, v in sorted(taken.items())) or "none"


async def bench(where: str, uncapped: bool) -> None:
    now = datetime.now(UTC)
    async with opened(where) as (store, sql):
        started = time.perf_counter()
        for first in range(0, OPEN, 1000):  # waiting since the last half hour: no alarm now
            batch = [
                message(f"c{i}", now - timedelta(seconds=1800 * (OPEN - i) / OPEN))
                for i in range(first, first + 1000)
            ]
            await store.save_inbound_batch(batch)
        await sql(
            "UPDATE conversations SET status = 'waiting', awaiting_since = NULL,"
            f" first_reply_at = created_at WHERE id % {OPEN // ANSWERED} = 0"
        )
        roles = frozenset({Role.COUNSELOR})
        staff = NewUser(username="bench", display_name="bench", password_hash="x", roles=roles)
        user = await store.create_user(staff, now=now)
        print(f"{where.split(':')[0]}: seeded in {time.perf_counter() - started:.1f} s")
        counted = Counted(store, uncapped=uncapped)
        watcher = DeadlineWatcher(
            store, targets=ResponseTargets(), hours_for=lambda _: ALWAYS_OPEN, clock=lambda: now
        )
        t = time.perf_counter()
        await watcher.check_once()
        print(f"  first pass: {1000 * (time.perf_counter() - t):.1f} ms; rows: {counted.take()}")
        times, rows = [], []
        counted.ms = {}
        for n in range(PASSES):
            arriving = [message(f"c{(n * 97 + k * 13) % OPEN}", now) for k in range(ARRIVING // 2)]
            arriving += [message(f"n{n}-{k}", now) for k in range(ARRIVING // 2)]
            await store.save_inbound_batch(arriving)
            for k in range(REPLIED):
                conv = ConversationId(1 + (n * 31 + k * 7) % OPEN)
                await store.assign(conv, user.id, actor_id=user.id, now=now, capacity=None)
                await store.add_reply(conv, author_id=user.id, body="x", now=now)
            counted.take()
            t = time.perf_counter()
            await watcher.check_once()
            times.append(1000 * (time.perf_counter() - t))
            rows.append(counted.take())
        times.sort()
        print(
            f"  passes under traffic: median {statistics.median(times):.1f} ms,"
            f" p90 {times[int(0.9 * len(times))]:.1f} ms, max {times[-1]:.1f} ms"
        )
        print(f"  rows read, pass 1: {rows[0]}; pass {PASSES}: {rows[-1]}")
        spent = ", ".join(f"{k} {v / PASSES:.1f}" for k, v in sorted(counted.ms.items()))
        print(f"  ms per pass by call: {spent}")


if __name__ == "__main__":
    asyncio.run(bench(sys.argv[1], uncapped="--uncapped" in sys.argv))
