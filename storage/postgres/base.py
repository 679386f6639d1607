"""What PostgresStore's mixins share: the pool helpers PostgresStore implements (see
storage/postgres.py; each turns asyncpg's errors into StorageError)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Any


class PostgresBase(ABC):
    """The base of PostgresStore and of each of its mixins."""

    @property
    @abstractmethod
    def pool(self) -> Any:
        """The open asyncpg pool."""

    @abstractmethod
    def _tx(self) -> AbstractAsyncContextManager[Any]:
        """A connection from the pool inside a transaction."""

    @abstractmethod
    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        """Every row of one statement on the pool."""

    @abstractmethod
    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        """The first row of one statement on the pool, or None."""

    @abstractmethod
    async def _fetchval(self, sql: str, *args: Any) -> Any:
        """The first value of one statement on the pool, or None."""
