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


class ChannelError(InboxError):
    def __init__(self, message: str, *, channel: str, retryable: bool) -> None:
        super().__init__(f"[{channel}] {message}")
        self.channel = channel
        self.retryable = retryable


class IntakeBusy(InboxError):
    """The intake queue is full; the source should retry later."""


class StorageError(InboxError):
    """The database failed."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached."""


class SchemaMismatch(StorageError):
    """The database schema does not match this version of the code."""


class NotFound(StorageError):
    """No such record."""


class DuplicateKey(StorageError):
    """A record with this key exists already."""

    def __init__(self, message: str | None = None, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key  # the field whose value is taken (e.g. "username"), when known


class Conflict(StorageError):
    """The record changed meanwhile, so the conditional update did not apply."""


class PermissionDenied(InboxError):
    """Your role does not allow this."""
