"""Faults below the stores, for the log privacy tests: while armed, a statement whose arguments
hold FAIL fails in the driver with the driver's own exception type and the arguments in its
text, as asyncpg's DataError quotes them. Injected at the connection, so whatever the edge
cleans up later, the store still sees a real driver failure.

PostgreSQL: each str holding FAIL gets a lone surrogate appended, and asyncpg itself raises
DataError("invalid input for query argument $n: [...]"), quoting the first 40 characters of the
argument: in an array, other consulters' bodies. SQLite never quotes arguments in its errors,
so there the connection raises sqlite3.DataError with them, standing for a driver that does.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import aiosqlite
import asyncpg
import pytest

from inbox.logging import configure_logging

# Made at run time, so no source line that a traceback prints can hold them.
MARK = f"PRIVATE-{uuid.uuid4().hex[:10]}"  # personal data: must reach no log
FAIL = f"FAIL-{uuid.uuid4().hex[:10]}"  # makes the driver fail on the value that holds it
TRIGGER = f"{MARK} {FAIL}"  # personal data the driver fails on


class Faults:
    armed = False


def _poisoned(value: Any) -> Any:
    if isinstance(value, str):
        return value + "\udc80" if FAIL in value else value
    if isinstance(value, list | tuple):
        items = [_poisoned(v) for v in value]
        # a named row (storage.events.EventRow) is built from its fields, not from one iterable
        return value._make(items) if hasattr(value, "_make") else type(value)(items)
    return value


def _if_armed(args: Any) -> Any:
    return _poisoned(args) if Faults.armed else args


def _triggers(args: Any) -> bool:
    return Faults.armed and FAIL in repr(args)


class FaultyPostgres(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    async def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await super().execute(query, *_if_armed(args), **kwargs)

    async def executemany(self, command: str, args: Any, **kwargs: Any) -> Any:
        return await super().executemany(command, _if_armed(list(args)), **kwargs)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await super().fetch(query, *_if_armed(args), **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await super().fetchrow(query, *_if_armed(args), **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await super().fetchval(query, *_if_armed(args), **kwargs)


class FaultySqlite(sqlite3.Connection):
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if _triggers(parameters):
            raise sqlite3.DataError(f"cannot bind {parameters!r}")
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        rows = list(parameters)
        if _triggers(rows):
            raise sqlite3.DataError(f"cannot bind {rows!r}")
        return super().executemany(sql, rows)


@contextmanager
def driver_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Faults]]:
    """Stores opened inside the block get faulty connections; arm with `Faults.armed = True`."""
    monkeypatch.setattr(aiosqlite, "connect", partial(aiosqlite.connect, factory=FaultySqlite))
    monkeypatch.setattr(
        asyncpg, "create_pool", partial(asyncpg.create_pool, connection_class=FaultyPostgres)
    )
    Faults.armed = False
    try:
        yield Faults
    finally:
        Faults.armed = False


@contextmanager
def captured_logs(fmt: str) -> Iterator[io.StringIO]:
    """Everything logged, at every level, through the project's handler in format `fmt`."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", fmt, stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def actions(stream: io.StringIO, fmt: str) -> list[str]:
    """The `action` of every record written, to show that the failures were logged at all."""
    lines = stream.getvalue().splitlines()
    if fmt == "json":
        return [str(json.loads(line)["action"]) for line in lines]
    return [line.split()[2] for line in lines if line[:2].isdigit() and line[2:3] == ":"]
