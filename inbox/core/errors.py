"""Errors this project raises on purpose; each message names the thing, the value and the fix."""

from __future__ import annotations


class InboxError(Exception):
    """Base for errors this project raises on purpose."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


class ConfigError(InboxError):
    """The configuration is invalid."""


class ValidationError(InboxError):
    """Input from outside is malformed; `field` names the offending field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class TooLarge(ValidationError):
    """Input is larger than the configured limit."""


class Unstorable(ValidationError):
    """The database refused this message even on its own, after its text was made storable;
    the other messages handed in with it were stored. Resending the same message will not help."""

    def __init__(
        self,
        message: str = "this message could not be stored; it was not kept",
        *,
        field: str = "body",
    ) -> None:
        super().__init__(message, field=field)


class ChannelError(InboxError):
    """A send failed. `opted_out`: the provider says the recipient refuses every message (SMS
    STOP told to the carrier): her opt-out is recorded, so nothing else is even tried."""

    def __init__(
        self, message: str, *, channel: str, retryable: bool, opted_out: bool = False
    ) -> None:
        super().__init__(f"[{channel}] {message}")
        self.channel = channel
        self.retryable = retryable
        self.opted_out = opted_out


class IntakeBusy(InboxError):
    """The intake queue is full; the source should retry later."""


class StorageError(InboxError):
    """The database failed."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached."""


class SchemaMismatch(StorageError):
    """The database schema does not match this version of the code."""


class InvalidData(StorageError):
    """The database refused a value in what was written (a data or constraint error): the
    record's fault, not the database's, so retrying the same record will not help."""


class NotFound(StorageError):
    """No such record."""


class DuplicateKey(StorageError):
    """A record with this key exists already."""

    def __init__(self, message: str | None = None, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key  # the field whose value is taken (e.g. "username"), when known


class Conflict(StorageError):
    """The record changed meanwhile, so the conditional update did not apply."""


class NumberOfOtherConsulter(Conflict):
    """This number belongs to another consulter's record; ask a supervisor to link them first."""

    code = "number_of_other_consulter"  # the API's error code (inbox.web.server.ERROR_CODES)


class CallbackTaken(Conflict):
    """This callback is assigned to someone else: only they (or a supervisor) may log its tries."""

    code = "callback_taken"


class WithheldCall(Conflict):
    """A withheld call has no contact: her age group cannot be kept on it."""

    code = "withheld_call"


class LastAdmin(Conflict):
    """This would leave no enabled admin; make another account an admin first."""


class ReplyCollision(Conflict):
    """Another staff member's reply went out after the last message the composer saw: nothing
    was sent, so that she can read it first and resend on purpose (no double replies)."""

    def __init__(self, authors: tuple[str, ...]) -> None:
        super().__init__(
            f"{', '.join(authors)} replied after the last message you saw; nothing was sent. "
            "Read it, then send again with force: true"
        )
        self.authors = authors  # display names, in order of their first such reply


class PermissionDenied(InboxError):
    """Your role does not allow this."""


class OwnAccount(InboxError):
    """An admin cannot disable herself or remove her own admin role; another admin can."""


# What a driver or the system sets from the schema or the OS, never from a statement's
# arguments: safe to log, and what an operator needs to tell one failure from another.
_SAFE_FIELDS = (
    ("sqlstate", "SQLSTATE"),  # asyncpg.PostgresError
    ("sqlite_errorname", ""),  # sqlite3.Error (3.11+): SQLITE_CONSTRAINT_UNIQUE, ...
    ("constraint_name", "constraint"),
    ("table_name", "table"),
    ("column_name", "column"),
    ("data_type_name", "type"),
    ("encoding", "encoding"),  # UnicodeError: which codec, and why (never the text)
    ("reason", ""),
)


def error_summary(exc: BaseException) -> str:
    """What may be logged of any exception: its type, then error_detail(exc)."""
    return type(exc).__name__ + error_detail(exc)


def error_detail(exc: BaseException) -> str:
    """ ": message" for ours (InboxError), which we write; for any other exception " (...)" with
    the fields in _SAFE_FIELDS and an OSError's errno and system text, or "": never its message,
    which may quote the data (asyncpg's DataError repeats the statement's arguments, a
    PostgreSQL DETAIL the failing row, a ValueError the value it could not parse)."""
    if isinstance(exc, InboxError):
        return f": {exc}"
    details = []
    for attr, label in _SAFE_FIELDS:
        value = getattr(exc, attr, None)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            details.append(f"{label} {value}" if label else str(value))
    if isinstance(exc, OSError) and exc.errno is not None:
        details.append(f"errno {exc.errno}")
        if exc.strerror:
            details.append(exc.strerror)
    return f" ({', '.join(details)})" if details else ""
