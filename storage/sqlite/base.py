"""What SqliteStore's mixins share: the connection helpers SqliteStore implements (see
storage/sqlite.py for the lock and the transactions) and the event row every mutation writes."""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, TypeVar

import aiosqlite

from inbox.core.model import UserId
from storage.rows import format_text_time as _ts
from storage.sqlite import sql as q

T = TypeVar("T")


class SqliteBase(ABC):
    """The base of SqliteStore and of each of its mixins."""

    @abstractmethod
    def _tx(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE) under the store's lock."""

    @abstractmethod
    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Every row of one read statement, on the reader connection under its lock."""

    @abstractmethod
    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `fn` in one transaction as ONE call on aiosqlite's thread."""

    async def _event(
        self,
        db: aiosqlite.Connection,
        kind: str,
        now: datetime,
        *,
        actor_id: UserId | None = None,
        conversation_id: int | None = None,
        message_id: int | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        await db.execute(
            q.INSERT_EVENT,
            (_ts(now), kind, actor_id, conversation_id, message_id, json.dumps(data or {})),
        )
