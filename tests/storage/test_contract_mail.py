"""The Store contract for the mail channel's state (cursors, threads, bounces), on both stores."""

from __future__ import annotations

import pytest

from inbox.core.errors import NotFound
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    DeliveryStatus,
    MailCursor,
    MailThread,
    MessageId,
    OutboxId,
    UserId,
)
from storage.base import Store
from storage.intake_plan import OTHER_ADDRESS_NOTE
from tests.factories import at, inbound, new_user

MAIL = ChannelKind.MAIL


async def _counselor(store: Store) -> UserId:
    return (await store.create_user(new_user("sato"), now=at(0))).id


async def _conversation(store: Store, sender: str) -> ConversationId:
    (stored,) = await store.save_inbound_batch([inbound(sender, channel=MAIL)])
    return stored.conversation_id


async def _sent_reply(
    store: Store, author: UserId, sender: str, provider_id: str
) -> tuple[ConversationId, MessageId, OutboxId]:
    """A reply to `sender` that the channel accepted under `provider_id`."""
    conv_id = await _conversation(store, sender)
    reply = await store.add_reply(conv_id, author_id=author, body="お返事", now=at(10))
    (item,) = await store.claim_outbox(now=at(11), limit=10, lease_s=30)
    assert item.message.message_id == reply.id
    await store.mark_sent(item.outbox_id, provider_id=provider_id, now=at(12))
    return conv_id, reply.id, item.outbox_id


async def _status(store: Store, conv_id: ConversationId, message_id: MessageId) -> DeliveryStatus:
    (found,) = [m for m in await store.list_messages(conv_id) if m.id == message_id]
    return found.delivery_status


# ---- cursors ------------------------------------------------------------------------------------
async def test_mail_cursor_round_trips_per_mailbox(store: Store) -> None:
    assert await store.mail_cursor("inbox@example.jp") is None
    await store.save_mail_cursor(
        "inbox@example.jp", MailCursor(uidvalidity=4_000_000_000, last_uid=42), now=at(1)
    )
    await store.save_mail_cursor("other", MailCursor(uidvalidity=1, last_uid=7), now=at(1))
    assert await store.mail_cursor("inbox@example.jp") == MailCursor(
        uidvalidity=4_000_000_000, last_uid=42
    )
    assert await store.mail_cursor("other") == MailCursor(uidvalidity=1, last_uid=7)
    await store.save_mail_cursor("other", MailCursor(uidvalidity=1, last_uid=8), now=at(2))
    assert await store.mail_cursor("other") == MailCursor(uidvalidity=1, last_uid=8)


async def test_mail_cursor_never_rewinds_within_a_uidvalidity(store: Store) -> None:
    await store.save_mail_cursor("box", MailCursor(uidvalidity=7, last_uid=100), now=at(1))
    # A slow writer of an older batch saves after the newer one: the cursor stays.
    await store.save_mail_cursor("box", MailCursor(uidvalidity=7, last_uid=50), now=at(2))
    assert await store.mail_cursor("box") == MailCursor(uidvalidity=7, last_uid=100)
    await store.save_mail_cursor("box", MailCursor(uidvalidity=7, last_uid=120), now=at(3))
    assert await store.mail_cursor("box") == MailCursor(uidvalidity=7, last_uid=120)


async def test_a_new_uidvalidity_replaces_the_cursor(store: Store) -> None:
    await store.save_mail_cursor("box", MailCursor(uidvalidity=7, last_uid=100), now=at(1))
    await store.save_mail_cursor("box", MailCursor(uidvalidity=8, last_uid=3), now=at(2))
    assert await store.mail_cursor("box") == MailCursor(uidvalidity=8, last_uid=3)
    await store.save_mail_cursor("box", MailCursor(uidvalidity=8, last_uid=2), now=at(3))
    assert await store.mail_cursor("box") == MailCursor(uidvalidity=8, last_uid=3)


# ---- threads ------------------------------------------------------------------------------------
async def _joined(store: Store) -> list[tuple[int | None, int | None]]:
    return [
        (e.conversation_id, e.message_id)
        for e in await store.list_events()
        if e.kind == "thread_joined"
    ]


async def test_a_reply_from_another_address_joins_the_conversation_it_answers(store: Store) -> None:
    conv = await _conversation(store, "a@example.jp")
    (joined, again) = await store.save_inbound_batch(
        [
            inbound("a-work@example.jp", channel=MAIL, conversation_hint=conv),
            inbound("a-work@example.jp", channel=MAIL, conversation_hint=conv),
        ]
    )
    assert joined.conversation_id == conv and again.conversation_id == conv
    assert joined.other_address and again.other_address
    assert not joined.duplicate and not again.duplicate
    messages = await store.list_messages(conv)
    assert len(messages) == 3
    assert messages[1].body == f"こんにちは\n\n{OTHER_ADDRESS_NOTE}"
    # The counselor learns that these came from elsewhere (an event; never the address).
    assert await _joined(store) == [(conv, joined.message_id), (conv, again.message_id)]
    # Her own address, with the hint: no such event.
    (own,) = await store.save_inbound_batch(
        [inbound("a@example.jp", channel=MAIL, conversation_hint=conv)]
    )
    assert own.conversation_id == conv and len(await _joined(store)) == 2
    assert not own.other_address
    assert (await store.list_messages(conv))[-1].body == "こんにちは"
    # The other address has no conversation of its own: without a hint it opens one.
    (alone,) = await store.save_inbound_batch([inbound("a-work@example.jp", channel=MAIL)])
    assert alone.conversation_id != conv


async def test_a_hint_to_a_closed_unknown_or_other_channel_conversation_is_ignored(
    store: Store,
) -> None:
    sato = await _counselor(store)
    closed = await _conversation(store, "a@example.jp")
    await store.close(closed, actor_id=sato, now=at(5))
    (chat,) = await store.save_inbound_batch([inbound("c-chat")])  # web chat
    got = await store.save_inbound_batch(
        [
            inbound("b@example.jp", channel=MAIL, conversation_hint=closed),
            inbound("d@example.jp", channel=MAIL, conversation_hint=chat.conversation_id),
            inbound("e@example.jp", channel=MAIL, conversation_hint=999_999),
        ]
    )
    ids = {s.conversation_id for s in got}
    assert len(ids) == 3 and not ids & {closed, chat.conversation_id}
    assert await _joined(store) == []


async def test_mail_threads_upsert_keeping_subject_and_reference_order(store: Store) -> None:
    one = await _conversation(store, "a@example.jp")
    two = await _conversation(store, "b@example.jp")
    assert await store.mail_thread(one) is None
    assert await store.mail_thread(ConversationId(999_999)) is None
    await store.save_mail_threads([], now=at(1))

    first = MailThread(subject="相談です", last_message_id="m1@x", references=("m0@x",))
    refs = ("z@x", "a@x", "m@x")  # not sorted: the order is the thread's
    other = MailThread(subject="Re: 件名", last_message_id="b1@x", references=refs)
    await store.save_mail_threads([(one, first), (two, other)], now=at(1))
    assert await store.mail_thread(one) == first
    assert await store.mail_thread(two) == other

    # Her next mail has no subject: the thread keeps it; the rest follows the new mail.
    untitled = MailThread(subject="", last_message_id="m2@x", references=("m0@x", "m1@x"))
    await store.save_mail_threads([(one, untitled)], now=at(2))
    assert await store.mail_thread(one) == MailThread(
        subject="相談です", last_message_id="m2@x", references=("m0@x", "m1@x")
    )
    blank = MailThread(subject="  ", last_message_id=None, references=())
    await store.save_mail_threads([(one, blank)], now=at(3))
    assert await store.mail_thread(one) == MailThread(subject="相談です", last_message_id=None)

    # Two mails of one conversation in one batch: applied in order, the later one wins.
    renamed = MailThread(subject="新しい件名", last_message_id="m3@x", references=("m2@x",))
    untitled = MailThread(subject="", last_message_id="m4@x", references=("m2@x", "m3@x"))
    await store.save_mail_threads([(one, renamed), (one, untitled)], now=at(4))
    assert await store.mail_thread(one) == MailThread(
        subject="新しい件名", last_message_id="m4@x", references=("m2@x", "m3@x")
    )
    assert await store.mail_thread(two) == other


async def test_mail_threads_of_an_unknown_conversation_store_nothing(store: Store) -> None:
    conv_id = await _conversation(store, "a@example.jp")
    thread = MailThread(subject="件名", last_message_id="m1@x")
    with pytest.raises(NotFound):
        await store.save_mail_threads(
            [(conv_id, thread), (ConversationId(999_999), thread)], now=at(1)
        )
    assert await store.mail_thread(conv_id) is None


# ---- bounces ------------------------------------------------------------------------------------
async def test_bounces_mark_sent_replies_failed_with_or_without_brackets(store: Store) -> None:
    sato = await _counselor(store)
    conv_a, bracketed, _ = await _sent_reply(store, sato, "a@example.jp", "<r1@t.example>")
    conv_b, bare, _ = await _sent_reply(store, sato, "b@example.jp", "r2@t.example")
    conv_c, untouched, _ = await _sent_reply(store, sato, "c@example.jp", "<r3@t.example>")
    before = await store.last_event_id()

    marked = await store.mark_bounced(
        ["r1@t.example", "<r2@t.example>", "<unknown@elsewhere>", "nothing"],
        now=at(20),
    )
    assert sorted(marked) == sorted([bracketed, bare])
    assert await _status(store, conv_a, bracketed) is DeliveryStatus.FAILED
    assert await _status(store, conv_b, bare) is DeliveryStatus.FAILED
    assert await _status(store, conv_c, untouched) is DeliveryStatus.SENT
    events = await store.list_events(after_id=before)
    assert sorted((e.kind, e.conversation_id, e.message_id) for e in events) == sorted(
        [("reply_failed", conv_a, bracketed), ("reply_failed", conv_b, bare)]
    )
    assert all(e.data == {"error": "bounced", "reason": "bounced"} for e in events)
    assert all(e.at == at(20) for e in events)
    # A failed row is never sent again.
    assert await store.claim_outbox(now=at(500), limit=10, lease_s=30) == []
    assert await store.next_outbox_due() is None

    # The same bounce again (another copy, a restart): nothing more happens.
    again = await store.mark_bounced(["<r1@t.example>", "r2@t.example"], now=at(21))
    assert again == []
    assert await store.list_events(after_id=before) == events
    assert await store.mark_bounced([], now=at(22)) == []
    # Both forms of one id at once mark the message once.
    both = await store.mark_bounced(["r3@t.example", "<r3@t.example>"], now=at(23))
    assert both == [untouched]


async def test_bounces_touch_only_sent_replies(store: Store) -> None:
    sato = await _counselor(store)
    conv_f, failed, outbox_id = await _sent_reply(store, sato, "a@example.jp", "r1@t.example")
    await store.mark_failed(outbox_id, error="refused", now=at(13))  # its provider id stays
    conv_p = await _conversation(store, "b@example.jp")
    pending = await store.add_reply(conv_p, author_id=sato, body="未送信", now=at(14))
    before = await store.last_event_id()

    assert await store.mark_bounced(["r1@t.example", "<r1@t.example>"], now=at(20)) == []
    assert await store.last_event_id() == before
    assert await _status(store, conv_f, failed) is DeliveryStatus.FAILED
    assert await _status(store, conv_p, pending.id) is DeliveryStatus.PENDING
    (still,) = await store.claim_outbox(now=at(30), limit=10, lease_s=30)
    assert still.message.message_id == pending.id


# ---- discretion in the outbox -------------------------------------------------------------------
async def test_claimed_replies_carry_the_contacts_discretion(store: Store) -> None:
    sato = await _counselor(store)
    discreet_conv = await _conversation(store, "a@example.jp")
    plain_conv = await _conversation(store, "b@example.jp")
    await store.set_discretion(discreet_conv, True, actor_id=sato, now=at(1))
    discreet = await store.add_reply(discreet_conv, author_id=sato, body="x", now=at(2))
    plain = await store.add_reply(plain_conv, author_id=sato, body="y", now=at(2))
    items = await store.claim_outbox(now=at(3), limit=10, lease_s=30)
    assert {i.message.message_id: i.message.discreet for i in items} == {
        discreet.id: True,
        plain.id: False,
    }
    # Cleared again before a retry: the retry is sent plainly.
    await store.set_discretion(discreet_conv, False, actor_id=sato, now=at(4))
    (again, _) = await store.claim_outbox(now=at(60), limit=10, lease_s=30)
    assert (again.message.message_id, again.message.discreet) == (discreet.id, False)
