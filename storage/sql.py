"""The small transaction interface every store operation is written once over.

An operation is an `async def op(tx: Tx) -> T`; a store runs it in one transaction with
`Database.write(op)` (or `read(op)`). SQL is written once in PostgreSQL's form, with `$1`
placeholders, and the SQLite side rewrites those to `?1`; where the dialects truly differ
(arrays against JSON, locks, upserts) a `Dialects` constant holds both texts by name, beside the
operation. Values are taken as Python gives them: the SQLite side stores a datetime as its fixed
text form and a list as JSON, the column types the PostgreSQL schema holds as timestamptz and
text[]; rows come back to the shared converters in storage.rows with `tx.parse_time`.
This is procrastinate's manager over its connector, and pgqueuer's queries over its driver.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from storage.rows import Row, TimeParser

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Dialects:
    """One statement whose text differs between the dialects (both with `$n` placeholders)."""

    postgres: str
    sqlite: str


Query = str | Dialects  # a str reads the same on both


class Tx(Protocol):
    """One open transaction (or, for `Database.read`, one consistent read)."""

    @property
    def parse_time(self) -> TimeParser:
        """How this driver gives a stored time back (for storage.rows)."""

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        """Every row of one statement."""

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        """The first row of one statement, or None."""

    async def fetchval(self, query: Query, *args: Any) -> Any:
        """The first value of the first row, or None."""

    async def execute(self, query: Query, *args: Any) -> None:
        """One statement whose rows, if any, are not wanted."""

    async def executemany(self, query: Query, args: Iterable[Sequence[Any]]) -> None:
        """One statement for each argument tuple."""

    async def insert_rows(
        self, table: str, columns: Sequence[str], values: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows the fastest way the driver has (COPY; multi-row INSERT)."""


# An operation: `async def op(tx)` or a lambda returning one Tx call's coroutine.
Operation = Callable[[Tx], Coroutine[Any, Any, T]]


class Database(Protocol):
    """What a store's operations run on: SqliteStore and PostgresStore each give one."""

    @property
    def parse_time(self) -> TimeParser:
        """How this driver gives a stored time back (for storage.rows)."""

    async def write(self, op: Operation[T]) -> T:
        """Run `op` in one write transaction: all of it commits, or none of it (it raises).
        Only StorageError subclasses escape, with the driver's exception as the cause."""

    async def read(self, op: Operation[T]) -> T:
        """Run `op`, which only reads, without blocking the writer (SQLite's reader connection;
        on PostgreSQL each statement on its own snapshot)."""

    async def snapshot(self, op: Operation[T]) -> T:
        """Run `op`, which only reads, as ONE consistent read: every statement sees the same
        committed state (SQLite's reader transaction; PostgreSQL's read-only REPEATABLE READ
        transaction), without blocking the writer."""


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Finish a coroutine that never suspends, without an event loop.

    SQLite's side of Tx is async only in signature: each call runs the statement on the
    connection at once. So an operation can run whole on aiosqlite's thread as ONE hand-off
    (each hop between the loop and that thread costs more than a small statement does)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("an SQLite operation awaited something besides its transaction")
