"""The Store contract for attachment contents (schema 4), on both stores: kept with their
message, listed with `stored`, read back one at a time, never twice for a redelivery."""

from __future__ import annotations

import pytest

from inbox.core.errors import NotFound
from inbox.core.model import Attachment, ChannelKind, MessageId
from storage.base import KeyedInbound, Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound, new_user

MAIL = ChannelKind.MAIL
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"  # every byte value survives


def att(name: str, content: bytes | None, *, size: int | None = None) -> Attachment:
    """An attachment as a channel hands it over; content None: refused (over the limit)."""
    return Attachment(
        filename=name,
        content_type="application/pdf",
        size_bytes=len(content) if content is not None else (size or 0),
        content=content,
    )


def mail(sender: str, *files: Attachment, external_id: str | None = None) -> KeyedInbound:
    return inbound(sender, channel=MAIL, external_id=external_id, attachments=files)


async def content_rows(store: Store) -> int:
    """Rows in the attachments table, whichever the store (the API has no count)."""
    sql = "SELECT count(*) FROM attachments"
    if isinstance(store, SqliteStore):
        ((count,),) = await store.db.execute_fetchall(sql)
        return int(count)
    assert isinstance(store, PostgresStore)
    return int(await store.pool.fetchval(sql))


async def test_content_round_trips_with_its_listing(store: Store) -> None:
    photo = Attachment(
        filename="写真 1.jpg", content_type="image/jpeg", size_bytes=3, content=b"\0"
    )
    (stored,) = await store.save_inbound_batch(
        [mail("a@example.jp", att("診断書.pdf", PDF), photo)]
    )
    (msg,) = await store.list_messages(stored.conversation_id)
    listed = (
        Attachment(
            filename="診断書.pdf", content_type="application/pdf", size_bytes=len(PDF), stored=True
        ),
        Attachment(filename="写真 1.jpg", content_type="image/jpeg", size_bytes=3, stored=True),
    )
    assert msg.attachments == listed
    assert all(a.content is None for a in msg.attachments)  # listing never loads the bytes
    assert await store.get_message(stored.message_id) == msg
    first, content = await store.attachment(stored.message_id, 0)
    assert (first, content) == (listed[0], PDF)
    assert await store.attachment(stored.message_id, 1) == (listed[1], b"\0")


async def test_refused_attachment_is_listed_but_not_downloadable(store: Store) -> None:
    big = att("大きい.pdf", None, size=50_000_000)
    (stored,) = await store.save_inbound_batch([mail("a@example.jp", big, att("small.pdf", b"ok"))])
    msg = await store.get_message(stored.message_id)
    assert [(a.filename, a.size_bytes, a.stored) for a in msg.attachments] == [
        ("大きい.pdf", 50_000_000, False),
        ("small.pdf", 2, True),
    ]
    with pytest.raises(NotFound):
        await store.attachment(stored.message_id, 0)
    assert (await store.attachment(stored.message_id, 1))[1] == b"ok"
    assert await content_rows(store) == 1


@pytest.mark.parametrize(
    ("message_offset", "position"),
    [(0, 2), (0, 2**31), (0, 2**70), (1, 0), (10**6, 0), (2**64, 0)],
)
async def test_unknown_message_or_position_is_not_found(
    store: Store, message_offset: int, position: int
) -> None:
    (stored,) = await store.save_inbound_batch([mail("a@example.jp", att("a.pdf", b"x"))])
    with pytest.raises(NotFound):
        await store.attachment(MessageId(stored.message_id + message_offset), position)


async def test_unknown_message_is_not_found(store: Store) -> None:
    for message_id in (1, 2**64):
        with pytest.raises(NotFound):
            await store.get_message(MessageId(message_id))


async def test_redelivery_stores_no_second_copy(store: Store) -> None:
    first = mail("a@example.jp", att("a.pdf", PDF), att("b.pdf", b"b"), external_id="<m1>")
    (stored,) = await store.save_inbound_batch([first])
    changed = mail("a@example.jp", att("a.pdf", b"other"), external_id="<m1>")
    again = await store.save_inbound_batch([first, changed, first])
    assert [a.duplicate for a in again] == [True, True, True]
    assert {a.message_id for a in again} == {stored.message_id}
    assert await content_rows(store) == 2
    assert (await store.attachment(stored.message_id, 0))[1] == PDF  # the first delivery's


async def test_batch_with_and_without_attachments(store: Store) -> None:
    batch = [
        mail("a@example.jp"),
        mail("b@example.jp", att("b.pdf", b"bb")),
        mail("a@example.jp", att("a1.pdf", b"a1"), att("a2.pdf", None, size=9)),
        inbound("c", body="チャット"),  # another channel, no attachments
        mail("d@example.jp", att("d.pdf", b"d"), external_id="<dup>"),
        mail("d@example.jp", att("d.pdf", b"d"), external_id="<dup>"),  # a repeat in the batch
    ]
    answers = await store.save_inbound_batch(batch)
    assert [a.duplicate for a in answers] == [False] * 5 + [True]
    assert answers[0].conversation_id == answers[2].conversation_id
    expected: list[list[tuple[str, bool, bytes | None]]] = [
        [],
        [("b.pdf", True, b"bb")],
        [("a1.pdf", True, b"a1"), ("a2.pdf", False, None)],
        [],
        [("d.pdf", True, b"d")],
    ]
    for answer, wanted in zip(answers[:5], expected, strict=True):
        msg = await store.get_message(answer.message_id)
        assert [(a.filename, a.stored) for a in msg.attachments] == [(n, s) for n, s, _ in wanted]
        for position, (_, _, content) in enumerate(wanted):
            if content is None:
                with pytest.raises(NotFound):
                    await store.attachment(answer.message_id, position)
            else:
                assert (await store.attachment(answer.message_id, position))[1] == content
        with pytest.raises(NotFound):
            await store.attachment(answer.message_id, len(wanted))
    assert await content_rows(store) == 3
    # The messages without attachments stay as before schema 4: an empty list.
    assert (await store.get_message(answers[0].message_id)).attachments == ()


async def test_notes_and_replies_have_no_attachments(store: Store) -> None:
    (stored,) = await store.save_inbound_batch([mail("a@example.jp", att("a.pdf", b"x"))])
    user = await store.create_user(new_user("sato"), now=at(0))
    note = await store.add_note(stored.conversation_id, author_id=user.id, body="メモ", now=at(1))
    assert (await store.get_message(note.id)).attachments == ()
    with pytest.raises(NotFound):
        await store.attachment(note.id, 0)
