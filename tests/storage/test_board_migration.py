"""Migration 13 on a desk that ran version 12: a channel paused then names who paused it, and
the alerts open then (not acknowledged) are the open ones after, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import storage.postgres.schema
import storage.sqlite.store
from inbox.core.model import ChannelKind
from storage.base import SCHEMA_VERSION
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests import pgutil
from tests.factories import at, inbound

AnyStore = SqliteStore | PostgresStore


async def _at_version_12(store: AnyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(storage.sqlite.store, "SCHEMA_VERSION", 12)
        m.setattr(storage.postgres.schema, "SCHEMA_VERSION", 12)
        assert (await store.migrate())[-1] == 12


async def _then_13(store: AnyStore) -> None:
    # version 12's users table (today's create_user writes columns of later versions)
    boss = await store._db.write(
        lambda tx: tx.fetchval(
            "INSERT INTO users (username, display_name, password_hash, roles, created_at)"
            " VALUES ($1, $1, 'x', $2, $3) RETURNING id",
            "boss",
            ["supervisor"],
            at(0),
        )
    )
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", received_at=at(1))])
    conv = stored.conversation_id
    # version 12's pause: channel_settings without paused_by, and its event
    database = store._db
    await database.write(
        lambda tx: tx.execute(
            "INSERT INTO channel_settings (channel, paused, updated_at) VALUES ($1, $2, $3)",
            "mail",
            True,
            at(50),
        )
    )
    await store.record_event("channel_paused", now=at(50), actor_id=boss, data={"channel": "mail"})
    for n in range(3):
        await store.record_event("deadline_warning", now=at(60 + n), conversation_id=conv)
    await store.record_event("conversation_assigned", now=at(70), data={"via": "on_call"})
    first, *_ = [e.id for e in await store.list_events() if e.kind == "deadline_warning"]
    ack = {"event_id": first, "kind": "deadline_warning"}
    await store.record_event("alert_acknowledged", now=at(80), actor_id=boss, data=ack)

    assert await store.migrate() == list(range(13, SCHEMA_VERSION + 1))
    rows = await store.board_rows(day_start=at(0), now=at(90), acknowledged=0)
    (pause,) = rows.pauses
    assert (pause.channel, pause.since, pause.by) == (ChannelKind.MAIL, at(50), boss)
    assert [a.event.kind for a in rows.alerts] == ["conversation_assigned"] + [
        "deadline_warning"
    ] * 2
    assert first not in [a.event.id for a in rows.alerts]


async def test_sqlite_migrates_a_paused_channel_and_its_open_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteStore(tmp_path / "v12.db") as store:
        await _at_version_12(store, monkeypatch)
        await _then_13(store)


@asynccontextmanager
async def _empty(pg_template: pgutil.PgTemplate) -> AsyncIterator[PostgresStore]:
    url = await pg_template.empty_database()
    async with PostgresStore(url) as store:
        yield store
    await pg_template.drop(url)


@pytest.mark.postgres
async def test_postgres_migrates_a_paused_channel_and_its_open_alerts(
    pg_template: pgutil.PgTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _empty(pg_template) as store:
        await _at_version_12(store, monkeypatch)
        await _then_13(store)
