"""Background workers outlive a database outage: inbox.resilience's backoff and logging, the
workers' loops over a store that fails for a while, and the translation of the drivers'
connection errors into DatabaseUnavailable."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from inbox.core.decisions import Assign, AwaitingAnswer, RoutingSnapshot
from inbox.core.errors import DatabaseUnavailable, InvalidData, StorageError
from inbox.deadlines import DeadlineWatcher
from inbox.resilience import Outages
from inbox.router import Router
from routing.deadlines import ResponseTargets
from routing.hours import ALWAYS_OPEN
from storage.postgres.pool import translated
from storage.sqlite.store import SqliteStore
from tests.factories import ROUTED_AT, counselor, inbound, outbox_sender


class Pauses:
    """Outages' pause: records each delay instead of sleeping; `on_pause` may end the outage."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.on_pause: Callable[[], None] = lambda: None

    async def __call__(self, delay_s: float) -> None:
        self.delays.append(delay_s)
        self.on_pause()


def actions(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(r.__dict__.get("action")) for r in caplog.records if "action" in r.__dict__]


async def test_retrying_backs_off_capped_and_logs_once_per_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pauses = Pauses()
    outages = Outages(first_delay_s=0.5, max_delay_s=2.0, pause=pauses)
    calls = 0
    seen_waiting: list[list[str]] = []

    async def step() -> str:
        nonlocal calls
        calls += 1
        seen_waiting.append(outages.waiting)
        if calls <= 5:
            raise DatabaseUnavailable("down") from OSError("refused")
        return "done"

    with caplog.at_level(logging.INFO):
        assert await outages.retrying("router", step) == "done"
    assert pauses.delays == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert actions(caplog) == ["worker_db_unavailable", "worker_db_recovered"]
    (down,) = [r for r in caplog.records if r.__dict__.get("action") == "worker_db_unavailable"]
    assert down.__dict__["cause"] == "OSError" and "down" not in down.getMessage()
    assert seen_waiting[0] == [] and seen_waiting[1:] == [["router"]] * 5
    assert outages.waiting == []


async def test_retrying_lets_other_errors_and_cancellation_through() -> None:
    async def forever(_: float) -> None:
        await asyncio.Event().wait()

    outages = Outages(pause=forever)

    async def bug() -> None:
        raise KeyError("not a database error")

    with pytest.raises(KeyError):
        await outages.retrying("router", bug)

    async def down() -> None:
        raise DatabaseUnavailable("down")

    async def refused() -> None:
        raise StorageError("one row a statement keeps failing on")

    task = asyncio.create_task(outages.retrying("router", down))
    other = asyncio.create_task(outages.retrying("outbox", refused))
    await asyncio.sleep(0)  # let them fail once and enter the backoff
    await asyncio.sleep(0)
    # both retry; only the unreachable database makes the instance not ready (/readyz)
    assert outages.waiting == ["router"]
    for t in (task, other):
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t


class FlakyStore(SqliteStore):
    """SQLite whose workers' reads fail with DatabaseUnavailable while `down` is set, and
    which notes each read served after that (`served`, `served_again`)."""

    down = True

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.served: set[str] = set()
        self.served_again = asyncio.Event()

    def _read(self, name: str) -> None:
        if self.down:
            raise DatabaseUnavailable("down")
        self.served.add(name)
        self.served_again.set()

    async def routing_snapshot(self) -> RoutingSnapshot:
        self._read("routing_snapshot")
        return await super().routing_snapshot()

    async def awaiting_answers(self, *, after: int = 0, limit: int = 1000) -> list[AwaitingAnswer]:
        self._read("awaiting_answers")
        return await super().awaiting_answers(after=after, limit=limit)

    async def next_outbox_due(self) -> datetime | None:
        self._read("next_outbox_due")
        return await super().next_outbox_due()


@pytest.fixture
async def flaky(tmp_path: Path) -> FlakyStore:
    store = FlakyStore(tmp_path / "inbox.db")
    await store.__aenter__()
    await store.migrate()
    return store


def _ends_outage_after(pauses: Pauses, store: FlakyStore, n: int) -> None:
    def count() -> None:
        if len(pauses.delays) >= n:
            store.down = False

    pauses.on_pause = count


async def test_the_router_waits_out_an_outage_and_routes(flaky: FlakyStore) -> None:
    await counselor(flaky, "sato")
    (stored,) = await flaky.save_inbound_batch([inbound("a")])
    pauses = Pauses()
    _ends_outage_after(pauses, flaky, 3)
    assigned = asyncio.Event()

    def on_assigned(done: Sequence[Assign]) -> None:
        assert [a.conversation_id for a in done] == [stored.conversation_id]
        assigned.set()

    router = Router(
        flaky, clock=lambda: ROUTED_AT, on_assigned=on_assigned, outages=Outages(pause=pauses)
    )
    task = asyncio.create_task(router.run())
    try:
        async with asyncio.timeout(10):
            await assigned.wait()
    finally:
        task.cancel()
        await flaky.__aexit__()
    assert len(pauses.delays) == 3


async def test_deadlines_and_outbox_wait_out_an_outage(flaky: FlakyStore) -> None:
    pauses = Pauses()
    _ends_outage_after(pauses, flaky, 2)
    watcher = DeadlineWatcher(
        flaky,
        targets=ResponseTargets(),
        hours_for=lambda _: ALWAYS_OPEN,
        clock=lambda: ROUTED_AT,
        outages=Outages(pause=pauses),
    )
    outbox = outbox_sender(flaky, clock=lambda: ROUTED_AT, outages=Outages(pause=pauses))
    try:
        async with asyncio.TaskGroup() as tg:  # an escaping error would end the test here
            watching = tg.create_task(watcher.run())
            sending = tg.create_task(outbox.run())
            async with asyncio.timeout(10):
                # each failed pass pauses; the second pause ends the outage; then both resume
                while flaky.served != {"awaiting_answers", "next_outbox_due"}:
                    flaky.served_again.clear()
                    await flaky.served_again.wait()
            assert not flaky.down and len(pauses.delays) == 2
            watching.cancel()
            sending.cancel()
    finally:
        await flaky.__aexit__()


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.InternalClientError("PoolConnectionHolder.connect() called while another"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_lost_connections_become_database_unavailable(driver_error: Exception) -> None:
    with pytest.raises(DatabaseUnavailable) as caught, translated():
        raise driver_error
    assert caught.value.__cause__ is driver_error


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.ReadOnlySQLTransactionError("a standby after a failover"),
        asyncpg.DiskFullError("could not extend file"),
        asyncpg.OutOfMemoryError("out of memory"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.LockNotAvailableError("could not obtain lock"),
    ],
)
def test_a_server_unable_for_now_is_database_unavailable(driver_error: Exception) -> None:
    """Not the request's fault: the intake must fail the batch for a retry, not refuse each
    message as unstorable, and the workers back off."""
    with pytest.raises(DatabaseUnavailable), translated():
        raise driver_error


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.DataError("invalid input for query argument $1"),
        asyncpg.NotNullViolationError("null value in column"),
        asyncpg.CheckViolationError("violates check constraint"),
    ],
)
def test_a_refused_value_is_invalid_data(driver_error: Exception) -> None:
    with pytest.raises(InvalidData), translated():
        raise driver_error


def test_other_interface_errors_stay_storage_errors() -> None:
    with pytest.raises(StorageError) as caught, translated():
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
    assert not isinstance(caught.value, DatabaseUnavailable)


async def test_a_locked_sqlite_file_is_database_unavailable(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "inbox.db") as store:
        await store.migrate()
        await store.db.execute("PRAGMA busy_timeout = 50")  # not the 5 s of production
        with sqlite3.connect(tmp_path / "inbox.db", isolation_level=None) as other:
            other.execute("BEGIN EXCLUSIVE")  # another process holds the file
            with pytest.raises(DatabaseUnavailable) as caught:
                await store.record_event("probe", now=ROUTED_AT)
            other.execute("ROLLBACK")
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        await store.record_event("probe", now=ROUTED_AT)  # and it passes once released
