"""Driver failures leave a store as StorageError naming the driver error's type and SQLSTATE
(or SQLite's error name), with the driver's exception as the cause, but never its text: that
text may quote the statement's arguments, i.e. bodies and addresses (issue 11)."""

from __future__ import annotations

import pytest

from inbox.core.errors import StorageError
from inbox.core.model import ConversationId, UserId
from storage.base import Store
from storage.postgres.store import PostgresStore
from tests.factories import at, inbound, new_user

SECRET = "相談の本文 PRIVATE-7c1e"


async def _conversation(store: Store) -> tuple[ConversationId, UserId]:
    sato = await store.create_user(new_user("sato"), now=at(0))
    (stored,) = await store.save_inbound_batch([inbound("a@example.org", body="相談です")])
    return stored.conversation_id, sato.id


async def test_text_the_driver_cannot_encode_fails_without_quoting_it(store: Store) -> None:
    conv, sato = await _conversation(store)
    with pytest.raises(StorageError) as failed:
        await store.add_note(conv, author_id=sato, body=f"{SECRET}\udc80", now=at(1))
    assert "PRIVATE" not in str(failed.value)
    if isinstance(store, PostgresStore):  # asyncpg's DataError, which quotes the argument
        assert str(failed.value) == "PostgreSQL DataError (SQLSTATE 22000)"
        assert SECRET in str(failed.value.__cause__)
    else:  # sqlite3 raises UnicodeEncodeError, whose `object` is the whole text
        assert str(failed.value) == (
            "SQLite UnicodeEncodeError (encoding utf-8, surrogates not allowed)"
        )
        assert isinstance(failed.value.__cause__, UnicodeEncodeError)


async def test_a_number_beyond_64_bits_fails_as_a_storage_error(store: Store) -> None:
    conv, sato = await _conversation(store)
    with pytest.raises(StorageError) as failed:
        await store.add_note(ConversationId(2**70), author_id=sato, body=SECRET, now=at(1))
    assert "PRIVATE" not in str(failed.value) and str(2**70) not in str(failed.value)
    assert failed.value.__cause__ is not None
    assert await store.list_messages(conv) != []  # the store still works


async def test_a_taken_username_names_the_constraint_not_the_row(store: Store) -> None:
    await store.create_user(new_user("tanaka"), now=at(0))
    with pytest.raises(StorageError) as failed:
        await store.create_user(new_user("tanaka"), now=at(1))
    translated = failed.value.__cause__  # the store's DuplicateKey, under the one naming her
    assert isinstance(translated, StorageError)
    # It names the constraint, not the row: PostgreSQL's DETAIL "Key (username)=(tanaka)"
    # stays with the driver's exception, as does anything SQLite would quote.
    assert "username" in str(translated) and "tanaka" not in str(translated)
