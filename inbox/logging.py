"""Structured logging: JSON lines for collectors, a terse text form for people, context ids.

Every record should carry a stable `action` (dashboards query it) plus id fields:
`log.info("stored", extra={"action": "message_stored", "message_id": mid})`.
Only cli.py calls configure_logging; modules just use `logging.getLogger(__name__)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from inbox.core.errors import error_detail
from inbox.core.model import ConversationId, MessageId

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

# Set these around a unit of work; asyncio tasks inherit the context they were created in,
# so every record logged on behalf of that work carries the ids.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
conversation_id_var: ContextVar[ConversationId | None] = ContextVar("conversation_id", default=None)
message_id_var: ContextVar[MessageId | None] = ContextVar("message_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra` or a filter.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",  # added in Python 3.12; listed so upgrading doesn't leak it into every line
}

# Personal data and secrets: never logged, even when someone passes them by mistake.
REDACTED_KEYS = frozenset(
    {"body", "text", "sender", "address", "recipient", "phone", "email", "token", "password"}
)
REDACTED = "[redacted]"


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {
        k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")
    }


def _is_redacted_key(key: str) -> bool:
    # Also catch compound names like `auth_token` or `sender_address`.
    return key in REDACTED_KEYS or key.rpartition("_")[2] in REDACTED_KEYS


class ContextFilter(logging.Filter):
    """Copy request/conversation/message ids from the contextvars onto each record.

    An id passed explicitly in `extra` wins over the ambient one.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        ids: dict[str, object] = {
            "request_id": request_id_var.get(),
            "conversation_id": conversation_id_var.get(),
            "message_id": message_id_var.get(),
        }
        for name, value in ids.items():
            if value is not None and name not in vars(record):
                setattr(record, name, value)
        return True


class RedactingFilter(logging.Filter):
    """Replace `extra` fields that may hold message text, addresses or secrets with [redacted]."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in _extras(record):
            if _is_redacted_key(key):
                setattr(record, key, REDACTED)
        return True


class _SafeExceptions(logging.Formatter):
    """Tracebacks with their frames and every chained exception's type, but the message only of
    our own errors (inbox.core.errors.error_detail): a driver's or the standard library's may quote
    the data it failed on, and a StorageError chains the driver's exception as its cause."""

    def formatException(self, ei: ExcInfo) -> str:
        return "" if ei[1] is None else "".join(safe_traceback(ei[1])).rstrip("\n")


class JsonFormatter(_SafeExceptions):
    """One JSON object per line: ts (UTC, Z), level, logger, msg, action, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        out: dict[str, object] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "action": getattr(record, "action", None),
        }
        for key, value in _extras(record).items():
            # The fixed keys above win: dashboards rely on them meaning one thing.
            if key not in out and _json_ok(value):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(_SafeExceptions):
    """`HH:MM:SS LEVEL action msg key=value ...` in local time, for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        action = getattr(record, "action", None) or "-"
        line = f"{clock} {record.levelname:<7} {action} {record.getMessage()}"
        pairs = [f"{k}={_text_value(v)}" for k, v in _extras(record).items() if k != "action"]
        if pairs:
            line += " " + " ".join(pairs)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class _InboxHandler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installed, so a second call replaces it."""


# Client libraries that log payloads at DEBUG (aioimaplib: every byte received, i.e. mail).
# linebot logs every response body at DEBUG (profiles, content); twilio its requests at INFO.
QUIET_LOGGERS = ("aiosqlite", "asyncpg", "aioimaplib", "aiosmtplib", "linebot", "twilio")


def configure_logging(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """Send the root logger's records to stream (default stderr) as fmt "json" or "text".

    Idempotent: replaces the handler a previous call installed and leaves others alone.
    """
    formatters: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}
    if fmt not in formatters:
        raise ValueError(f"log format must be 'json' or 'text', got {fmt!r}")
    handler = _InboxHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(formatters[fmt]())
    # Filters go on the handler, not the root logger: logger filters skip propagated records.
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _InboxHandler)]:
        root.removeHandler(old)
        old.close()  # flushes; a StreamHandler never closes its stream
    root.addHandler(handler)
    root.setLevel(level)
    # Database drivers log each statement with its parameters at DEBUG, and the parameters are
    # message bodies and addresses; their warnings and errors still come through.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler (cli.py sets it): asyncio's own adds the repr() of the
    task or future, which quotes its exception's message, e.g. a driver's DataError."""
    exc = context.get("exception")
    logging.getLogger("asyncio").error(
        context.get("message") or "unhandled error in the event loop",
        exc_info=exc if isinstance(exc, BaseException) else None,
        extra={"action": "loop_error"},
    )


def _json_ok(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):  # not serializable, or a circular reference
        return False
    return True


def _text_value(value: object) -> str:
    text = str(value)
    needs_quotes = not text or any(c.isspace() or c in '"=' for c in text)
    return json.dumps(text, ensure_ascii=False) if needs_quotes else text


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def safe_traceback(exc: BaseException, _seen: set[int] | None = None) -> list[str]:
    """traceback.format_exception's lines, with each exception's line written as
    `module.Type` + error_detail (its message only if it is ours), and no __notes__."""
    seen = set() if _seen is None else _seen
    seen.add(id(exc))
    lines: list[str] = []
    if exc.__cause__ is not None and id(exc.__cause__) not in seen:
        lines += [*safe_traceback(exc.__cause__, seen), _CAUSE]
    elif (
        exc.__context__ is not None
        and not exc.__suppress_context__
        and id(exc.__context__) not in seen
    ):
        lines += [*safe_traceback(exc.__context__, seen), _CONTEXT]
    if exc.__traceback__ is not None:
        lines += ["Traceback (most recent call last):\n", *traceback.format_tb(exc.__traceback__)]
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    lines.append(f"{name}{error_detail(exc)}\n")
    if isinstance(exc, BaseExceptionGroup):
        for number, sub in enumerate(exc.exceptions, 1):
            lines.append(f"+---------------- {number} ----------------\n")
            lines += ["    " + line for line in "".join(safe_traceback(sub, seen)).splitlines(True)]
    return lines
