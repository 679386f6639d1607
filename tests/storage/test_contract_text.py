"""Both stores keep what inbox.core.text lets through exactly, and refuse the rest alike, with a
StorageError (SQLite's driver raised a bare UnicodeEncodeError for a lone surrogate)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inbox.core.errors import StorageError
from inbox.core.model import Direction
from inbox.core.text import storable
from storage.base import Store
from tests.factories import T0, inbound, new_user

# Controls, noncharacters, the last code point, an emoji, a surrogate pair left split in a str:
# once made storable, both databases keep every one of them as it is.
OUTSIDE = "\x01\x1f\x7f\x9f\ufffe\uffff\U0010ffff🍀 相談\x00\ud83d\ude00 \ud83d"


async def test_storable_text_round_trips_exactly(store: Store) -> None:
    text = storable(OUTSIDE)
    assert text == "\x01\x1f\x7f\x9f\ufffe\uffff\U0010ffff🍀 相談😀 \ufffd"
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", body=text)])
    user = await store.create_user(replace(new_user("sato"), display_name=text), now=T0)
    await store.add_note(stored.conversation_id, author_id=user.id, body=text, now=T0)
    await store.record_event("noted", now=T0, data={"reason": text})
    messages = await store.list_messages(stored.conversation_id)
    assert [(m.direction, m.body) for m in messages] == [
        (Direction.INBOUND, text),
        (Direction.NOTE, text),
    ]
    assert (await store.get_user(user.id)).display_name == text
    (event,) = [e for e in await store.list_events() if e.kind == "noted"]
    assert event.data == {"reason": text}


async def test_a_lone_surrogate_is_refused_as_a_storage_error_on_both(store: Store) -> None:
    with pytest.raises(StorageError) as refused:
        await store.save_inbound_batch([inbound("a@example.jp", body="困っています\ud83d")])
    assert isinstance(refused.value.__cause__, Exception)  # the driver's error, chained
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", body="その後")])
    assert [m.body for m in await store.list_messages(stored.conversation_id)] == ["その後"]
