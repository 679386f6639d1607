"""SqlStore: the operations both stores share, and what they do alike with their Database.

SqliteStore and PostgresStore add only what their dialect does by hand: schema and migrations,
intake, the router's snapshot and apply, the live tail of events, and listening to other
instances.
"""

from __future__ import annotations

from typing import Protocol, Self

from inbox.core.errors import DatabaseUnavailable, SchemaMismatch, StorageError
from storage.accounts import Accounts
from storage.activities import Activities
from storage.agencies import Agencies
from storage.assignment import Assignment
from storage.attachments import Attachments
from storage.base import SCHEMA_VERSION
from storage.board import Board
from storage.callbacks import Callbacks
from storage.calls import Calls
from storage.canned import CannedReplies
from storage.context import Context
from storage.deadlines import Deadlines
from storage.desk import Desk
from storage.events import Events
from storage.follow_ups import FollowUps
from storage.line import Line
from storage.mail_state import Mail
from storage.outbox import Outbox
from storage.policies import Policies
from storage.presence import Presences
from storage.profile import Profile
from storage.referrals import Referrals
from storage.report import Report
from storage.retention import Retention
from storage.sms import Sms
from storage.sql import Database, Dialects, Tx
from storage.surveys import Surveys
from storage.voice import Voice

HAS_SCHEMA_MIGRATIONS = Dialects(
    postgres="SELECT to_regclass('schema_migrations') IS NOT NULL",
    sqlite="SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
)
CURRENT_VERSION = "SELECT coalesce(max(version), 0) FROM schema_migrations"


def schema_too_new(found: int) -> SchemaMismatch:
    return SchemaMismatch(
        f"the database schema is version {found}, newer than this code "
        f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
    )


class OpenableDatabase(Database, Protocol):
    async def open(self) -> None:
        """Connect (raises DatabaseUnavailable)."""

    async def close(self) -> None:
        """Disconnect; safe to call on a database that never opened."""


class SqlStore(
    Accounts,
    Agencies,
    Activities,
    Assignment,
    Attachments,
    Board,
    Callbacks,
    Calls,
    CannedReplies,
    Context,
    Deadlines,
    Desk,
    Events,
    FollowUps,
    Line,
    Mail,
    Outbox,
    Policies,
    Presences,
    Report,
    Retention,
    Referrals,
    Profile,
    Sms,
    Surveys,
    Voice,
):
    """Every area's operations over `_db`, which the dialect's store sets."""

    _db: OpenableDatabase
    intake_writers = 1  # storage.base.IntakeStore; PostgreSQL has more

    async def __aenter__(self) -> Self:
        await self._db.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        async def op(tx: Tx) -> int:
            if not await tx.fetchval(HAS_SCHEMA_MIGRATIONS):
                return 0
            return int(await tx.fetchval(CURRENT_VERSION))

        return await self._db.read(op)

    async def ping(self) -> None:
        try:
            await self._db.read(lambda tx: tx.fetchval("SELECT 1"))
        except StorageError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
