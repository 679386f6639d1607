"""The deadline watcher's passes after the first read only what changed (issue 18: a rescan of
every waiting conversation each second cost 56-86 ms at 2,000): what events name, and what
its heap says is due. Alarms fire at their time; an answer takes a conversation off the heap;
another instance's or the CLI's change is read; a restart reads everything once again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox.core.decisions import AwaitingAnswer, DeadlineChange
from inbox.core.errors import DatabaseUnavailable
from inbox.core.model import ConversationId, UserId
from inbox.deadlines import DeadlineWatcher
from inbox.resilience import Outages
from storage.base import Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests import pgutil
from tests.core.test_deadlines import TARGETS, each_pass, hours_for, watcher
from tests.factories import at, inbound, new_user


class Reads:
    """Counts what the watcher reads of `store`: each conversation asked for, and every page."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[ConversationId] = []
        self.loaded = 0  # rows of full loads
        among, pages = store.awaiting_among, store.awaiting_answers

        async def awaiting_among(ids: Sequence[ConversationId]) -> list[AwaitingAnswer]:
            self.asked += ids
            return await among(ids)

        async def awaiting_answers(*, after: int = 0, limit: int = 1000) -> list[AwaitingAnswer]:
            found = await pages(after=after, limit=limit)
            self.loaded += len(found)
            return found

        monkeypatch.setattr(store, "awaiting_among", awaiting_among)
        monkeypatch.setattr(store, "awaiting_answers", awaiting_answers)

    def take(self) -> tuple[list[ConversationId], int]:
        """(conversations asked for, rows loaded) since the last take."""
        asked, loaded = sorted(self.asked), self.loaded
        self.asked, self.loaded = [], 0
        return asked, loaded


async def waiting(
    store: Store, n: int, *, every_s: float = 60, name: str = "c"
) -> list[ConversationId]:
    """n consulters who each wrote once, every_s apart from 0."""
    stored = await store.save_inbound_batch(
        [inbound(f"{name}{i}", received_at=at(every_s * i)) for i in range(n)]
    )
    return [s.conversation_id for s in stored]


@pytest.mark.both_stores
async def test_a_pass_reads_only_the_conversations_that_changed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await waiting(store, 30, every_s=1)
    reads = Reads(store, monkeypatch)
    now = [at(60)]
    w = watcher(store, now)
    # Pages of 7: the first pass reads all 30, past any page size.
    monkeypatch.setattr("inbox.deadlines.LOAD_PAGE", 7)
    assert await w.check_once() == []
    assert reads.take() == ([], 30) and sorted(w.tracked) == sorted(ids)
    assert await w.check_once() == [] and reads.take() == ([], 0)  # nothing changed
    sato = await store.create_user(new_user("sato"), now=now[0])
    await store.assign(ids[3], sato.id, actor_id=sato.id, now=now[0], capacity=None)
    await store.add_reply(ids[3], author_id=sato.id, body="はい", now=now[0])
    await store.save_inbound_batch([inbound("c5", received_at=now[0])])  # she writes again
    (new,) = await waiting(store, 1, name="new")
    assert await w.check_once() == []
    assert reads.take() == (sorted([ids[3], ids[5], new]), 0)
    assert ids[3] not in w.tracked and new in w.tracked
    assert (await store.get_conversation(new)).first_response_due == at(600)


@pytest.mark.both_stores
async def test_alarms_fire_at_their_time_reading_only_those_due(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await waiting(store, 5)  # waiting since 0, 60, ..., 240 s: warned at 480 s after
    reads = Reads(store, monkeypatch)
    now = [at(300)]
    w = watcher(store, now)
    await w.check_once()
    reads.take()
    assert w.next_alarm() == at(480)
    now[0] = at(545)  # the first two warn (480, 540), the others not yet
    warned = await w.check_once()
    assert [c.conversation_id for c in warned] == ids[:2]
    assert {c.alarm for c in warned} == {"warn"} and reads.take() == (ids[:2], 0)
    # Their events bring them back once, with the warning on; then the breach is next.
    assert await w.check_once() == [] and reads.take() == (ids[:2], 0)
    assert w.tracked[ids[0]].next_alarm == at(600) and w.next_alarm() == at(600)
    now[0] = at(601)
    warned_or_breached = {c.conversation_id: c.alarm for c in await w.check_once()}
    assert warned_or_breached == {ids[0]: "breach", ids[2]: "warn"}
    assert reads.take() == (sorted([ids[0], ids[2]]), 0)


async def test_the_watcher_sleeps_until_the_alarm_time_not_a_rescan(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.now(UTC)
    # She waits since 8 min minus 1.5 s ago: warned at 80 % of 10 minutes, 1.5 s from now.
    (s,) = await store.save_inbound_batch(
        [inbound("a", received_at=start - timedelta(minutes=8) + timedelta(seconds=1.5))]
    )
    reads = Reads(store, monkeypatch)
    alarms: list[DeadlineChange] = []
    raised = asyncio.Event()

    def on_alarm(recorded: Sequence[DeadlineChange]) -> None:
        alarms.extend(recorded)
        raised.set()

    w = DeadlineWatcher(
        store,
        targets=TARGETS,
        hours_for=hours_for,
        clock=lambda: datetime.now(UTC),
        interval_s=3600,  # no poll would come in time: only the alarm's own time
        on_alarm=on_alarm,
    )
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(w.run())
        async with asyncio.timeout(5):
            await raised.wait()
        running.cancel()
    assert [a.alarm for a in alarms] == ["warn"]
    # Read once in full at start, then once more when its time came, before the warning.
    assert reads.take() == ([s.conversation_id], 1)


@pytest.mark.both_stores
async def test_a_conversation_answered_or_closed_leaves_the_heap(store: Store) -> None:
    answered, closed = await waiting(store, 2)
    now = [at(120)]
    w = watcher(store, now)
    await w.check_once()
    assert w.next_alarm() == at(480)
    sato = await store.create_user(new_user("sato"), now=now[0])
    await store.assign(answered, sato.id, actor_id=sato.id, now=now[0], capacity=None)
    await store.add_reply(answered, author_id=sato.id, body="はい", now=now[0])
    await store.close(closed, actor_id=sato.id, now=now[0])
    await w.check_once()
    assert w.tracked == {} and w.next_alarm() is None
    now[0] = at(3600)
    assert await w.check_once() == []


async def _picks_up_another_writer(mine: Store, theirs: Store, actor: UserId) -> None:
    """A watcher on `mine` sees what `theirs` (another instance, the CLI) writes."""
    now = [at(120)]
    w = watcher(mine, now)
    await w.check_once()
    (s,) = await theirs.save_inbound_batch([inbound("a", received_at=at(60))])
    await w.check_once()
    assert list(w.tracked) == [s.conversation_id]
    assert (await mine.get_conversation(s.conversation_id)).first_response_due == at(660)
    await theirs.close(s.conversation_id, actor_id=actor, now=at(130))
    await w.check_once()
    assert w.tracked == {}


@pytest.mark.postgres
async def test_another_instances_changes_are_read_on_postgresql(
    pg_template: pgutil.PgTemplate,
) -> None:
    url = await pg_template.fresh_database()
    try:
        async with PostgresStore(url) as mine, PostgresStore(url) as theirs:
            boss = await theirs.create_user(new_user("boss"), now=at(0))
            await _picks_up_another_writer(mine, theirs, boss.id)
    finally:
        await pg_template.drop(url)


async def test_another_processes_changes_are_read_on_sqlite(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "inbox.db") as mine:
        await mine.migrate()
        async with SqliteStore(tmp_path / "inbox.db") as cli:
            boss = await cli.create_user(new_user("boss"), now=at(0))
            await _picks_up_another_writer(mine, cli, boss.id)


@pytest.mark.both_stores
async def test_a_restart_reads_everything_again_and_raises_what_came_due(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await waiting(store, 3)
    now = [at(200)]
    first = watcher(store, now)
    await first.check_once()
    # The process stops; while it is down, the first two pass their warning time.
    now[0] = at(545)
    reads = Reads(store, monkeypatch)
    restarted = watcher(store, now)
    warned = await restarted.check_once()
    assert [c.conversation_id for c in warned] == ids[:2]
    assert reads.take() == ([], 3) and sorted(restarted.tracked) == ids


async def test_after_an_outage_it_reads_everything_once_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await waiting(store, 3)
    now = [at(200)]
    down = [False]

    async def pause(_: float) -> None:
        down[0] = False  # the database is back

    w = DeadlineWatcher(
        store,
        targets=TARGETS,
        hours_for=hours_for,
        clock=lambda: now[0],
        outages=Outages(pause=pause),
    )
    await w.check_once()
    (new,) = await waiting(store, 1, name="new")
    reads = Reads(store, monkeypatch)
    among = store.awaiting_among

    async def flaky(ids: Sequence[ConversationId]) -> list[AwaitingAnswer]:
        if down[0]:
            raise DatabaseUnavailable("down")
        return await among(ids)

    monkeypatch.setattr(store, "awaiting_among", flaky)
    passed = each_pass(w, monkeypatch)
    down[0] = True
    loop = asyncio.create_task(w.run())
    try:
        async with asyncio.timeout(5):
            while new not in w.tracked:
                passed.clear()
                await passed.wait()
    finally:
        loop.cancel()
    assert reads.take() == ([], 4) and sorted(w.tracked) == sorted([*ids, new])


async def test_only_the_leader_watches_and_a_new_leader_reads_everything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One watcher at a time, as one router (every instance's watcher wrote the same due times
    and alarms). A standby makes no pass; once it leads, its first pass reads every waiting
    conversation, as another instance watched meanwhile."""
    monkeypatch.setattr("inbox.deadlines.MIN_GAP_S", 0.01)
    ids = await waiting(store, 3)
    now = [at(200)]
    reads = Reads(store, monkeypatch)
    leading = asyncio.Event()
    w = DeadlineWatcher(
        store, targets=TARGETS, hours_for=hours_for, clock=lambda: now[0], leading=leading
    )
    passed = each_pass(w, monkeypatch)
    loop = asyncio.create_task(w.run())
    try:
        w.wake()
        await asyncio.sleep(0.05)
        assert not passed.is_set() and reads.take() == ([], 0)  # standing by
        leading.set()
        async with asyncio.timeout(5):
            await passed.wait()
        assert reads.take() == ([], 3) and sorted(w.tracked) == ids
        leading.clear()  # another instance leads; this one comes back to it later
        (new,) = await waiting(store, 1, name="new")
        w.wake()
        await asyncio.sleep(0.2)  # past a pass's minimum gap: it would have passed by now
        passed.clear()
        leading.set()
        async with asyncio.timeout(5):
            await passed.wait()
        assert reads.take() == ([], 4) and new in w.tracked  # all again, not only the news
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
