"""Opening PostgresStore's asyncpg pool and translating asyncpg errors into StorageError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from inbox.core.errors import (
    DatabaseUnavailable,
    DuplicateKey,
    InvalidData,
    NotFound,
    SchemaMismatch,
    StorageError,
    error_summary,
)

# Failures a whole-batch retry resolves: the other transaction has committed (unique violation)
# or was chosen to lose (deadlock); READ COMMITTED raises no serialization errors, but be safe.
RETRYABLE = (
    asyncpg.UniqueViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)
CONNECTION_LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # What asyncpg 0.32 raises on a pooled connection the server has ended (pg_terminate_backend)
    # when it is used next: "cannot switch to state 12; another operation (2) is in progress".
    # It also comes when a connection broke mid-way during a server restart under load.
    asyncpg.InternalClientError,
)
# What asyncpg's InterfaceError says when the connection under it is gone ("connection is
# closed", "the underlying connection is closed", "pool is closing"): an outage, not a bug.
_CLOSED_WORDS = ("closed", "closing", "released", "terminated")


def connection_gone(exc: BaseException) -> bool:
    """Whether an asyncpg error means the database cannot be reached now."""
    if isinstance(exc, CONNECTION_LOST):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and any(
        word in str(exc) for word in _CLOSED_WORDS
    )


# SQLSTATEs of a server that cannot do the work now but will later: connection exceptions (08),
# insufficient resources (53: disk full, out of memory, too many connections), operator
# intervention (57: shutdown, a cancelled or timed-out statement), system errors (58: I/O), a
# read-only server (25006: a standby after a failover) and a lock not granted in time (55P03).
_PASSING_CLASSES = ("08", "53", "57", "58")
_PASSING_STATES = ("25006", "55P03")


def passing(exc: BaseException) -> bool:
    """Whether a PostgreSQL error says the server is unable now, not that the request is wrong."""
    state = getattr(exc, "sqlstate", None)
    return isinstance(state, str) and (state[:2] in _PASSING_CLASSES or state in _PASSING_STATES)


def describe_url(url: str) -> str:
    """host:port/database of a connection URL, never its user or password."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        return "<unparsable database URL>"
    return f"{parts.hostname or 'localhost'}:{port}/{parts.path.lstrip('/') or '<default>'}"


def _without_password(exc: BaseException, url: str) -> str:
    """The error's text with the URL's password masked, should the driver ever echo it."""
    text = f"{type(exc).__name__}: {exc}"
    try:
        password = urlsplit(url).password
    except ValueError:
        return type(exc).__name__  # an unparsable URL: its text could be anywhere in the message
    return text.replace(password, "***") if password else text


async def open_pool(
    url: str,
    *,
    min_size: int,
    max_size: int,
    timeout_s: float,
    application_name: str,
    command_timeout_s: float | None = None,
) -> Any:
    """An asyncpg pool with `min_size` connections open. Raises DatabaseUnavailable.
    application_name tells this instance's writes from other instances' (storage.postgres.listen).
    command_timeout_s bounds every statement: a connection whose server vanished without a
    reset (a network cut) would otherwise hang its worker forever; the TimeoutError then
    surfaces as DatabaseUnavailable, and the worker backs off like in any outage."""
    try:
        return await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout_s,
            command_timeout=command_timeout_s,
            server_settings={"application_name": application_name},
            reset=_session_kept,
        )
    except (*CONNECTION_LOST, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe_url(url)} "
            f"({_without_password(exc, url)}); check that the server runs and the "
            "database URL is right"
        ) from exc


async def _session_kept(_conn: Any) -> None:
    """What a pooled connection is reset with when released: nothing more than asyncpg's own
    (an open transaction rolled back). Its default also runs `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL` (a round trip on every release: under load, each read
    paid for two), for session state that our pooled connections never keep: settings are
    set for the transaction only (set_config(..., true)), locks are transaction locks, and
    LISTEN and the router's lease have connections of their own."""


@contextmanager
def translated() -> Iterator[None]:
    """Let only StorageError subclasses out, with the driver's exception as the cause; their
    messages say the error's type, SQLSTATE and constraint, never the driver's text."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateKey(f"duplicate key violates {exc.constraint_name}") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound(f"a referenced record does not exist ({exc.constraint_name})") from exc
    except asyncpg.UndefinedTableError as exc:
        raise SchemaMismatch(
            f"PostgreSQL {error_summary(exc)}: the database is not migrated; run migrate first"
        ) from exc
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        raise InvalidData(f"PostgreSQL {error_summary(exc)}") from exc
    except (*CONNECTION_LOST, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        if connection_gone(exc):
            raise DatabaseUnavailable(f"PostgreSQL connection lost: {error_summary(exc)}") from exc
        if passing(exc):
            raise DatabaseUnavailable(f"PostgreSQL unavailable: {error_summary(exc)}") from exc
        # Never the driver's text: a DataError quotes the statement's arguments (message
        # bodies, addresses), a DETAIL the failing row. The exception stays the cause.
        raise StorageError(f"PostgreSQL {error_summary(exc)}") from exc


# The long-lived connections the instances coordinate by (the router's lease, the listener):
# the server notices a peer that vanished without closing (a crashed host, a cut network) in
# about 5 + 2 * 3 seconds and ends its session, which releases the router's lock for a standby
# (without these, the kernel's default keepalive takes some two hours).
KEEPALIVE_SETTINGS = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
    # ... and one that stops acknowledging what the server sent (a cut while an answer was on
    # its way, which keepalives do not probe) in 11 s, not after TCP's retransmissions (minutes)
    "tcp_user_timeout": "11000",
}
CLOSE_TIMEOUT_S = 5.0  # a connection whose peer stopped answering is then cut, not awaited
