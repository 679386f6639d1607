"""PostgreSQL only: several instances on one database, the races the contract suite cannot stage."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import asyncpg
import pytest

from inbox.core.decisions import Assign
from inbox.core.errors import DatabaseUnavailable, SchemaMismatch, StorageError
from inbox.core.model import (
    OPEN_STATUSES,
    Attachment,
    ChannelKind,
    ConversationId,
    OutboxItem,
    StoredInbound,
    UserId,
)
from storage.base import SCHEMA_VERSION
from storage.postgres import store as postgres
from storage.postgres import threads as postgres_threads
from storage.postgres.intake import save_inbound_batch as intake_in_transaction
from storage.postgres.routing import APPLY_ASSIGNMENTS, LOCK_COUNSELORS
from storage.postgres.schema import RECORD_MIGRATION
from storage.postgres.store import PostgresStore
from tests import pgutil
from tests.factories import at, inbound, new_user
from tests.storage.conftest import Stores

pytestmark = pytest.mark.postgres


# ---- intake -------------------------------------------------------------------------------------
async def test_two_instances_store_overlapping_batches_once(stores: Stores) -> None:
    senders = [f"+8190{i:08d}" for i in range(8)]
    batches = [
        [
            inbound(senders[i % len(senders)], external_id=f"m{i}", channel=ChannelKind.SMS)
            for i in range(k * 10, k * 10 + 30)
        ]
        for k in range(6)
    ]  # each batch overlaps the next two; every batch goes to both instances at once
    calls = [(store, batch) for batch in batches for store in stores]
    answers = await asyncio.gather(*(store.save_inbound_batch(batch) for store, batch in calls))

    by_key: dict[str, list[StoredInbound]] = {}
    conversation_of_sender: dict[str, set[ConversationId]] = {}
    for (_, batch), answer in zip(calls, answers, strict=True):
        for item, stored in zip(batch, answer, strict=True):
            by_key.setdefault(item.message.external_id, []).append(stored)
            conversation_of_sender.setdefault(item.message.sender, set()).add(
                stored.conversation_id
            )
    assert len(by_key) == 80
    for key, seen in by_key.items():
        assert len({s.message_id for s in seen}) == 1, key
        assert [s.duplicate for s in seen].count(False) == 1, key
    assert all(len(c) == 1 for c in conversation_of_sender.values())

    a, _ = stores
    conversations = await a.list_conversations(statuses=OPEN_STATUSES, limit=1000)
    assert len(conversations) == len(senders)
    assert sum([len(await a.list_messages(c.id)) for c in conversations]) == 80
    kinds = Counter(e.kind for e in await a.list_events(limit=10_000))
    assert (kinds["message_received"], kinds["conversation_opened"]) == (80, len(senders))


async def test_writers_sharing_new_senders_commit_without_retrying(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances, many rounds, each round's batches sharing every (new) sender in opposite
    orders. With ONE attempt allowed, a race must be resolved inside the transaction: retrying
    whole batches can livelock two writers whose batches keep colliding."""
    monkeypatch.setattr(postgres, "INTAKE_ATTEMPTS", 1)
    for round_ in range(15):
        senders = [f"+8170{round_:02d}{i:06d}" for i in range(20)]
        forward = [
            inbound(s, external_id=f"r{round_}-a{i}", channel=ChannelKind.SMS)
            for i, s in enumerate(senders)
        ]
        backward = [
            inbound(s, external_id=f"r{round_}-b{i}", channel=ChannelKind.SMS)
            for i, s in enumerate(reversed(senders))
        ]
        ours, theirs = await asyncio.gather(
            stores[0].save_inbound_batch(forward), stores[1].save_inbound_batch(backward)
        )
        assert not any(s.duplicate for s in ours + theirs)
        by_sender = {
            m.message.sender: a.conversation_id for m, a in zip(forward, ours, strict=True)
        }
        for m, a in zip(backward, theirs, strict=True):
            assert by_sender[m.message.sender] == a.conversation_id  # one thread per sender
    open_ = await stores[0].list_conversations(statuses=OPEN_STATUSES, limit=1000)
    assert len(open_) == 15 * 20


async def test_intake_waits_for_a_concurrent_writer_and_takes_its_rows(
    stores: Stores, other: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "INTAKE_ATTEMPTS", 1)  # resolved without a retry
    store, _ = stores
    item = inbound("+819012345678", external_id="race", channel=ChannelKind.SMS)
    async with other.transaction():
        (theirs,) = await intake_in_transaction(other, [item])
        ours = asyncio.create_task(store.save_inbound_batch([item]))
        # on the identity the other instance has not committed
        await pgutil.wait_until_blocked(db_url)
    assert await ours == [
        StoredInbound(
            message_id=theirs.message_id, conversation_id=theirs.conversation_id, duplicate=True
        )
    ]


async def test_the_intake_and_the_event_tail_do_not_wait_for_the_shared_pool(
    stores: Stores,
) -> None:
    """A message is acknowledged once its batch commits; under load every connection of the
    shared pool was held by the consoles' reads, and the batch waited for one (p99 538 ms at
    100 msg/s). The intake's writers and the staff feed's tail have connections of their own."""
    store, _ = stores
    start = await store.feed_start()
    held = [await store.pool.acquire() for _ in range(store.pool.get_max_size())]
    try:
        async with asyncio.timeout(5):
            (stored,) = await store.save_inbound_batch([inbound("+819011112222")])
            news = await store.feed_events(start)
        assert not stored.duplicate
        assert stored.message_id in {e.message_id for e in news.events}
    finally:
        for conn in held:
            await store.pool.release(conn)


async def test_a_raced_message_keeps_the_winners_attachments_only(
    stores: Stores, other: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "INTAKE_ATTEMPTS", 1)
    store, _ = stores
    (first,) = await store.save_inbound_batch([inbound("a@example.jp", channel=ChannelKind.MAIL)])
    pdf = Attachment(filename="a.pdf", content_type="application/pdf", size_bytes=3, content=b"abc")
    item = inbound("a@example.jp", external_id="race", channel=ChannelKind.MAIL, attachments=(pdf,))
    async with other.transaction():
        (theirs,) = await intake_in_transaction(other, [item])
        ours = asyncio.create_task(store.save_inbound_batch([item]))
        await pgutil.wait_until_blocked(db_url)  # on the conversation, then on the message's key
    assert (await ours)[0].duplicate and theirs.conversation_id == first.conversation_id
    assert await other.fetchval("SELECT count(*) FROM attachments") == 1
    assert (await store.attachment(theirs.message_id, 0))[1] == b"abc"


async def test_a_reply_whose_conversation_closes_meanwhile_is_not_misfiled(
    stores: Stores, other: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = stores
    mail = ChannelKind.MAIL
    (first,) = await store.save_inbound_batch([inbound("a@example.jp", channel=mail)])
    real = postgres_threads.find_or_create_identities
    closed: list[int] = []

    async def close_then_find(
        conn: asyncpg.Connection, items: list[object], known: dict[object, object]
    ) -> object:
        # Another instance closes the conversation just after our hint look-up.
        if not closed:
            closed.append(first.conversation_id)
            await other.execute(
                "UPDATE conversations SET status = 'closed' WHERE id = $1", first.conversation_id
            )
        return await real(conn, items, known)  # type: ignore[arg-type]

    monkeypatch.setattr(postgres_threads, "find_or_create_identities", close_then_find)
    hinted = inbound("b@work.example.jp", channel=mail, conversation_hint=first.conversation_id)
    (stored,) = await store.save_inbound_batch([hinted])
    # Retried: the hint now names a closed conversation, so her address decides; nothing was
    # filed under a@example.jp's identity.
    assert stored.conversation_id != first.conversation_id and not stored.other_address
    rows = await other.fetch(
        "SELECT c.id FROM conversations c JOIN channel_identities i ON i.id = c.identity_id "
        "WHERE i.identity_hash = (SELECT identity_hash FROM channel_identities i2 "
        "JOIN conversations c2 ON c2.identity_id = i2.id WHERE c2.id = $1)",
        first.conversation_id,
    )
    assert [r[0] for r in rows] == [first.conversation_id]
    assert await other.fetchval("SELECT count(*) FROM events WHERE kind = 'thread_joined'") == 0


# ---- routing ------------------------------------------------------------------------------------
async def test_disabling_waits_for_a_router_then_releases_what_it_assigned(
    stores: Stores, other: asyncpg.Connection, db_url: str
) -> None:
    store, _ = stores
    sato = await store.create_user(new_user("sato"), now=at(0))
    (s,) = await store.save_inbound_batch([inbound("a")])
    async with other.transaction():  # a router, between its counselor lock and its commit
        await other.execute(LOCK_COUNSELORS, [sato.id])
        await other.execute(
            "UPDATE conversations SET assignee_id = $1, status = 'assigned' WHERE id = $2",
            sato.id,
            s.conversation_id,
        )
        disabling = asyncio.create_task(store.set_user_disabled("sato", True, now=at(5)))
        await pgutil.wait_until_blocked(db_url)
    await disabling
    conv = await store.get_conversation(s.conversation_id)
    assert conv.assignee_id is None and conv.status.value == "queued"
    requeued = [e for e in await store.list_events() if e.kind == "conversation_requeued"]
    assert [e.conversation_id for e in requeued] == [s.conversation_id]


async def test_two_routers_never_exceed_capacity(stores: Stores) -> None:
    a, b = stores
    users = [(await a.create_user(new_user(f"c{i}", capacity=2), now=at(0))).id for i in range(3)]
    convs = [
        s.conversation_id for s in await a.save_inbound_batch([inbound(f"s{i}") for i in range(12)])
    ]
    # Both routers decided on the same stale snapshot, in opposite orders.
    plan_a = [
        Assign(conversation_id=c, user_id=users[i % 3], capacity=2) for i, c in enumerate(convs)
    ]
    plan_b = [
        Assign(conversation_id=c, user_id=users[(i + 1) % 3], capacity=2)
        for i, c in reversed(list(enumerate(convs)))
    ]
    applied_a, applied_b = await asyncio.gather(
        a.apply_assignments(plan_a, now=at(10)), b.apply_assignments(plan_b, now=at(10))
    )

    applied = applied_a + applied_b
    assert len({x.conversation_id for x in applied}) == len(applied) == 6
    agents = (await a.routing_snapshot()).agents
    assert [(g.user_id, g.load) for g in agents] == [(u, 2) for u in users]
    kinds = Counter(e.kind for e in await a.list_events(limit=10_000))
    assert kinds["conversation_assigned"] == 6


async def test_router_counts_the_load_committed_while_it_waited(
    stores: Stores, other: asyncpg.Connection, db_url: str
) -> None:
    store, _ = stores
    sato = (await store.create_user(new_user("sato", capacity=1), now=at(0))).id
    one, two = await store.save_inbound_batch([inbound("1"), inbound("2")])
    async with other.transaction():  # another router between its lock and its commit
        assert await other.fetchval(LOCK_COUNSELORS, [sato]) == sato
        await other.execute(APPLY_ASSIGNMENTS, [one.conversation_id], [sato], at(1), [sato])
        late = asyncio.create_task(
            store.apply_assignments(
                [Assign(conversation_id=two.conversation_id, user_id=sato, capacity=1)], now=at(2)
            )
        )
        await pgutil.wait_until_blocked(db_url)
    assert await late == []
    assert (await store.get_conversation(two.conversation_id)).assignee_id is None


async def test_router_waits_for_a_writer_then_rechecks_the_conversation(
    stores: Stores, other: asyncpg.Connection, db_url: str
) -> None:
    store, _ = stores
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    one, two = await store.save_inbound_batch([inbound("1"), inbound("2")])
    plan = [Assign(conversation_id=s.conversation_id, user_id=sato, capacity=3) for s in (one, two)]
    async with other.transaction():  # a supervisor closing one while the router applies
        await other.execute(
            "UPDATE conversations SET status = 'closed' WHERE id = $1", one.conversation_id
        )
        late = asyncio.create_task(store.apply_assignments(plan, now=at(2)))
        await pgutil.wait_until_blocked(db_url)
    assert [a.conversation_id for a in await late] == [two.conversation_id]
    assert (await store.get_conversation(one.conversation_id)).assignee_id is None


async def test_router_does_not_wait_for_a_reference_to_the_conversation(
    stores: Stores, other: asyncpg.Connection
) -> None:
    store, _ = stores
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    (one,) = await store.save_inbound_batch([inbound("1")])
    async with other.transaction():  # the foreign-key check of a note or event being written
        await other.execute(
            "SELECT 1 FROM conversations WHERE id = $1 FOR KEY SHARE", one.conversation_id
        )
        async with asyncio.timeout(10):
            applied = await store.apply_assignments(
                [Assign(conversation_id=one.conversation_id, user_id=sato, capacity=3)], now=at(2)
            )
    assert [a.conversation_id for a in applied] == [one.conversation_id]


# ---- outbox -------------------------------------------------------------------------------------
async def _replies(store: PostgresStore, count: int) -> UserId:
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    for stored in await store.save_inbound_batch([inbound(f"s{i}") for i in range(count)]):
        await store.add_reply(stored.conversation_id, author_id=sato, body="返信", now=at(1))
    return sato


async def test_two_senders_never_claim_the_same_row(stores: Stores) -> None:
    await _replies(stores[0], 20)

    async def drain(store: PostgresStore) -> list[OutboxItem]:
        claimed: list[OutboxItem] = []
        while batch := await store.claim_outbox(now=at(5), limit=3, lease_s=60):
            claimed += batch
        return claimed

    first, second = await asyncio.gather(drain(stores[0]), drain(stores[1]))
    ids = [i.outbox_id for i in first + second]
    assert len(ids) == len(set(ids)) == 20
    assert {i.attempts for i in first + second} == {1}


async def test_claim_skips_a_row_another_sender_holds(
    stores: Stores, other: asyncpg.Connection
) -> None:
    store, _ = stores
    await _replies(store, 3)
    async with other.transaction():
        held = await other.fetchval("SELECT min(id) FROM outbox")
        await other.execute("SELECT id FROM outbox WHERE id = $1 FOR UPDATE", held)
        async with asyncio.timeout(5):  # skipped, not waited for
            claimed = await store.claim_outbox(now=at(5), limit=10, lease_s=60)
        assert held not in {i.outbox_id for i in claimed} and len(claimed) == 2
    (last,) = await store.claim_outbox(now=at(5), limit=10, lease_s=60)
    assert last.outbox_id == held


# ---- schema -------------------------------------------------------------------------------------
async def test_concurrent_migrations_apply_each_version_once(
    pg_template: pgutil.PgTemplate,
) -> None:
    url = await pg_template.empty_database()
    async with (
        PostgresStore(url) as a,
        PostgresStore(url) as b,
        PostgresStore(url) as c,
        PostgresStore(url) as d,
    ):
        assert await a.schema_version() == 0
        results = await asyncio.gather(a.migrate(), b.migrate(), c.migrate(), d.migrate())
        # Each version in its own transaction, so migrators may share the work; each version
        # is applied exactly once, and in order by whoever applied it.
        assert sorted(v for r in results for v in r) == list(range(1, SCHEMA_VERSION + 1))
        assert all(r == sorted(r) for r in results)
        assert await d.schema_version() == SCHEMA_VERSION


async def test_newer_database_is_refused(stores: Stores, other: asyncpg.Connection) -> None:
    await other.execute(RECORD_MIGRATION, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaMismatch, match="newer than this code"):
        await stores[0].migrate()


async def test_unmigrated_database_says_so(pg_template: pgutil.PgTemplate) -> None:
    async with PostgresStore(await pg_template.empty_database()) as store:
        with pytest.raises(SchemaMismatch, match="migrate"):
            await store.list_users()


async def test_a_statement_that_never_answers_is_an_outage(
    db_url: str, other: asyncpg.Connection
) -> None:
    """A server that stops answering (here: a lock held forever; in life, a cut network) must
    not hang a worker: past database.command_timeout_s the store says DatabaseUnavailable, and
    the worker backs off as in any outage."""
    async with PostgresStore(db_url, command_timeout_s=0.3) as store:
        async with other.transaction():
            await other.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(DatabaseUnavailable):
                await store.list_users()
        assert await store.list_users() == []  # and the pool works again afterwards


# ---- connecting ---------------------------------------------------------------------------------
async def test_closed_port_is_unavailable_and_the_password_stays_secret() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free now, and nothing listens there once closed
    store = PostgresStore(f"postgresql://inbox:pa55-secret@127.0.0.1:{port}/inbox")
    with pytest.raises(DatabaseUnavailable) as raised:
        async with store:
            pass
    assert f"127.0.0.1:{port}/inbox" in str(raised.value)
    assert "pa55-secret" not in str(raised.value) and "pa55-secret" not in repr(store)
    assert isinstance(raised.value.__cause__, OSError)
    with pytest.raises(StorageError, match="async with"):
        await store.ping()


async def test_missing_database_is_unavailable(pg_template: pgutil.PgTemplate) -> None:
    url = pgutil.with_database(pg_template.admin_url, "tsunagu_no_such_database")
    with pytest.raises(DatabaseUnavailable, match="tsunagu_no_such_database"):
        async with PostgresStore(url):
            pass


async def test_an_instance_hears_the_others_events_not_its_own(stores: Stores) -> None:
    a, b = stores
    heard: asyncio.Queue[bool] = asyncio.Queue()
    listening = asyncio.create_task(a.listen(heard.put_nowait))
    try:
        assert await asyncio.wait_for(heard.get(), 5) is True  # once at (re)connection
        await a.save_inbound_batch([inbound("mine")])  # its own news: not reported back
        assert await news(heard) == []
        await b.save_inbound_batch([inbound("theirs")])
        # one notice per statement that wrote events: the batch writes them all in one
        assert await news(heard) == [True]  # a message: the router has work
        await b.record_event("user_signed_in", now=at(1))
        assert await news(heard) == [False]  # for staff screens only
        # callbacks wake the other instances' routers: new, due later, closed; and a follow-up
        # that became a task on another instance (its watcher is not the router)
        kinds = (
            "callback_requested",
            "callback_retry_scheduled",
            "callback_closed",
            "follow_up_due",
        )
        for kind in kinds:
            await b.record_event(kind, now=at(2))
            assert await news(heard) == [True], kind
    finally:
        listening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listening


async def test_the_listener_reconnects_after_the_server_drops_it(
    stores: Stores, other: asyncpg.Connection
) -> None:
    a, b = stores
    heard: asyncio.Queue[bool] = asyncio.Queue()
    listening = asyncio.create_task(a.listen(heard.put_nowait))
    try:
        assert await asyncio.wait_for(heard.get(), 5) is True
        # Terminate the listener's backend, as a server restart would.
        await other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND query LIKE 'LISTEN%'",
            a.instance,
        )
        assert await asyncio.wait_for(heard.get(), 10) is True  # reconnected, reported once
        await b.save_inbound_batch([inbound("after")])
        assert True in await news(heard)
    finally:
        listening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listening


async def news(heard: asyncio.Queue[bool], settle_s: float = 0.5) -> list[bool]:
    """What the listener reported within `settle_s` (notices arrive after the commit)."""
    await asyncio.sleep(settle_s)
    found = []
    while not heard.empty():
        found.append(heard.get_nowait())
    return found
