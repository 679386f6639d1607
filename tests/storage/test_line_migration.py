"""Migration 15 (LINE) on a desk that ran version 14: her conversations, messages and an SMS
STOP stay as they were, and the new state (reply tokens, channel events, display names) works on
the identities made before, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import storage.postgres.schema
import storage.sqlite.store
from inbox.core.line import ChannelEvent, Follow
from inbox.core.model import ChannelKind
from storage.base import SCHEMA_VERSION
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests import pgutil
from tests.factories import at, inbound

AnyStore = SqliteStore | PostgresStore
LINE, SMS = ChannelKind.LINE, ChannelKind.SMS


async def _at_version_14(store: AnyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(storage.sqlite.store, "SCHEMA_VERSION", 14)
        m.setattr(storage.postgres.schema, "SCHEMA_VERSION", 14)
        assert (await store.migrate())[-1] == 14


async def _then_15(store: AnyStore) -> None:
    # version 14's users table (create_user may write columns of later versions)
    boss = await store._db.write(
        lambda tx: tx.fetchval(
            "INSERT INTO users (username, display_name, password_hash, roles, created_at)"
            " VALUES ($1, $1, 'x', $2, $3) RETURNING id",
            "boss",
            ["supervisor"],
            at(0),
        )
    )
    line = inbound("U4af4980629e0f0a0b1c2d3e4f5a6b7c8", channel=LINE, body="たすけて😢")
    sms = inbound("+819012345678", channel=SMS, body="STOPする前")
    line_stored, sms_stored = await store.save_inbound_batch([line, sms])
    await store.set_opt_out(sms.identity_hash, True, now=at(5), conversation_id=None)
    await store.add_reply(line_stored.conversation_id, author_id=boss, body="はい", now=at(6))

    assert await store.migrate() == list(range(15, SCHEMA_VERSION + 1))
    assert await store.schema_version() == SCHEMA_VERSION

    # kept: her messages, the reply in the outbox, the SMS STOP
    bodies = [m.body for m in await store.list_messages(line_stored.conversation_id)]
    assert bodies == ["たすけて😢", "はい"]
    assert await store.is_opted_out(sms.identity_hash, SMS)
    assert not await store.is_opted_out(line.identity_hash, LINE)
    (item,) = await store.claim_outbox(now=at(7), limit=10, lease_s=30)
    assert (item.message.body, item.opted_out) == ("はい", False)

    # the new state, on the identities made before
    assert not await store.has_display_name(LINE, line.identity_hash)
    await store.set_display_name(LINE, line.identity_hash, "さくら")
    assert await store.has_display_name(LINE, line.identity_hash)
    await store.keep_reply_token(LINE, line.identity_hash, "tok", expires_at=at(60))
    assert await store.take_reply_token(LINE, line.identity_hash, now=at(8)) == "tok"
    unfollow = ChannelEvent("01HZ1", Follow.UNFOLLOW, at(9), line.identity_hash)
    assert await store.keep_channel_events(LINE, [unfollow]) == [True]
    assert await store.recipient_opted_out(line_stored.conversation_id)
    assert await store.recipient_opted_out(sms_stored.conversation_id)  # her STOP, kept
    (blocked,) = [e for e in await store.list_events() if e.kind == "line_blocked"]
    assert blocked.conversation_id == line_stored.conversation_id


async def test_sqlite_migrates_14_to_15_keeping_her_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteStore(tmp_path / "v14.db") as store:
        await _at_version_14(store, monkeypatch)
        await _then_15(store)


@asynccontextmanager
async def _empty(pg_template: pgutil.PgTemplate) -> AsyncIterator[PostgresStore]:
    url = await pg_template.empty_database()
    async with PostgresStore(url) as store:
        yield store
    await pg_template.drop(url)


@pytest.mark.postgres
async def test_postgres_migrates_14_to_15_keeping_her_data(
    pg_template: pgutil.PgTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _empty(pg_template) as store:
        await _at_version_14(store, monkeypatch)
        await _then_15(store)
