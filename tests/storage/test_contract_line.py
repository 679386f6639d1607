"""The Store contract for the LINE channel's state (storage.line), on both stores: reply tokens
single use and expiring, follow / unfollow / postback kept once by their event id, an unfollow as
her block on LINE alone, friends counted by Tokyo day, her display name."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.core.line import ChannelEvent, Follow, FriendsDay
from inbox.core.model import ChannelKind, ConversationId, Event
from storage.base import Store
from tests.factories import at, inbound, new_user

LINE, SMS = ChannelKind.LINE, ChannelKind.SMS
USER = "U4af4980629e0f0a0b1c2d3e4f5a6b7c8"
TOKYO = ZoneInfo("Asia/Tokyo")


async def _wrote(store: Store, sender: str = USER) -> tuple[str, ConversationId]:
    """The identity hash and conversation of a LINE message she sent."""
    item = inbound(sender, channel=LINE, body="はじめまして")
    (stored,) = await store.save_inbound_batch([item])
    return item.identity_hash, stored.conversation_id


def _event(
    n: int, kind: Follow, identity: str, when: datetime, data: str | None = None
) -> ChannelEvent:
    return ChannelEvent(f"01HZ{n:022d}", kind, when, identity, data)


async def _events(store: Store, *kinds: str) -> list[Event]:
    return [e for e in await store.list_events() if e.kind in kinds]


async def test_a_reply_token_is_given_once(store: Store) -> None:
    await store.keep_reply_token(LINE, "h1", "tok-1", expires_at=at(60))
    assert await store.take_reply_token(LINE, "h1", now=at(10)) == "tok-1"
    assert await store.take_reply_token(LINE, "h1", now=at(11)) is None
    # kept per channel and identity
    await store.keep_reply_token(LINE, "h1", "tok-2", expires_at=at(60))
    assert await store.take_reply_token(LINE, "h2", now=at(10)) is None
    assert await store.take_reply_token(SMS, "h1", now=at(10)) is None
    assert await store.take_reply_token(LINE, "h1", now=at(10)) == "tok-2"


async def test_an_expired_token_is_not_given_and_is_removed(store: Store) -> None:
    await store.keep_reply_token(LINE, "h1", "old", expires_at=at(60))
    assert await store.take_reply_token(LINE, "h1", now=at(60)) is None  # expiry is exclusive
    # removed: a token that expires earlier than the one kept would not replace it, so this
    # one being kept shows the expired one is gone
    await store.keep_reply_token(LINE, "h1", "new", expires_at=at(30))
    assert await store.take_reply_token(LINE, "h1", now=at(20)) == "new"


async def test_a_later_expiring_token_replaces_an_earlier_one_does_not(store: Store) -> None:
    await store.keep_reply_token(LINE, "h1", "first", expires_at=at(60))
    await store.keep_reply_token(LINE, "h1", "later", expires_at=at(90))
    await store.keep_reply_token(LINE, "h1", "redelivered", expires_at=at(70))
    await store.keep_reply_token(LINE, "h1", "same", expires_at=at(90))
    assert await store.take_reply_token(LINE, "h1", now=at(65)) == "later"


async def test_two_senders_taking_one_token_at_once_one_gets_it(store: Store) -> None:
    for n in range(5):
        await store.keep_reply_token(LINE, f"h{n}", f"tok-{n}", expires_at=at(60))
        taken = await asyncio.gather(
            *(store.take_reply_token(LINE, f"h{n}", now=at(10)) for _ in range(4))
        )
        assert sorted(taken, key=str) == [None, None, None, f"tok-{n}"]


async def test_an_unfollow_blocks_her_on_line_once(store: Store) -> None:
    identity, conv_id = await _wrote(store)
    unfollow = _event(1, Follow.UNFOLLOW, identity, at(20))
    assert await store.keep_channel_events(LINE, [unfollow]) == [True]
    assert await store.is_opted_out(identity, LINE)
    assert await store.recipient_opted_out(conv_id)
    (blocked,) = await _events(store, "line_blocked", "line_unblocked")
    assert (blocked.kind, blocked.conversation_id, blocked.at) == ("line_blocked", conv_id, at(20))
    assert USER not in json.dumps(blocked.data)

    # LINE redelivers it: nothing new, no second event
    assert await store.keep_channel_events(LINE, [unfollow]) == [False]
    assert len(await _events(store, "line_blocked")) == 1

    # the outbox refuses what was written to her meanwhile
    author = (await store.create_user(new_user("sato"), now=at(0))).id
    await store.add_reply(conv_id, author_id=author, body="お返事", now=at(30))
    (item,) = await store.claim_outbox(now=at(31), limit=10, lease_s=30)
    assert item.opted_out


async def test_a_follow_unblocks_her(store: Store) -> None:
    identity, conv_id = await _wrote(store)
    kept = await store.keep_channel_events(
        LINE,
        [_event(1, Follow.UNFOLLOW, identity, at(20)), _event(2, Follow.FOLLOW, identity, at(40))],
    )
    assert kept == [True, True]
    assert not await store.is_opted_out(identity, LINE)
    assert not await store.recipient_opted_out(conv_id)
    found = await _events(store, "line_blocked", "line_unblocked")
    assert [(e.kind, e.conversation_id, e.at) for e in found] == [
        ("line_blocked", conv_id, at(20)),
        ("line_unblocked", conv_id, at(40)),
    ]
    # a follow of one not blocked (a new friend) changes nothing and records no event
    assert await store.keep_channel_events(LINE, [_event(3, Follow.FOLLOW, identity, at(50))]) == [
        True
    ]
    assert len(await _events(store, "line_unblocked")) == 1


async def test_a_late_redelivered_unfollow_does_not_undo_a_later_follow(store: Store) -> None:
    """LINE redelivers an event whose first delivery failed, possibly after later ones: she
    blocked (20) then added the account again (40), but the unfollow arrives last. She is a
    friend: the desk must still be able to answer her."""
    identity, conv_id = await _wrote(store)
    follow = _event(2, Follow.FOLLOW, identity, at(40))
    unfollow = _event(1, Follow.UNFOLLOW, identity, at(20))
    assert await store.keep_channel_events(LINE, [follow]) == [True]
    assert await store.keep_channel_events(LINE, [unfollow]) == [True]  # kept, and counted
    assert not await store.is_opted_out(identity, LINE)
    assert not await store.recipient_opted_out(conv_id)
    assert await _events(store, "line_blocked", "line_unblocked") == []
    days = await store.friends_by_day(LINE, at(0), at(86400), TOKYO)
    assert [(d.added, d.lost) for d in days] == [(1, 1)]
    # the other way round, late: a follow older than the unfollow kept does not unblock her
    await store.keep_channel_events(LINE, [_event(3, Follow.UNFOLLOW, identity, at(60))])
    await store.keep_channel_events(LINE, [_event(4, Follow.FOLLOW, identity, at(50))])
    assert await store.is_opted_out(identity, LINE)


async def test_events_go_on_her_latest_conversation(store: Store) -> None:
    identity, first = await _wrote(store)
    author = (await store.create_user(new_user("sato"), now=at(0))).id
    await store.close(first, actor_id=author, now=at(5))
    _, latest = await _wrote(store)
    assert latest != first
    await store.keep_channel_events(LINE, [_event(1, Follow.UNFOLLOW, identity, at(20))])
    (blocked,) = await _events(store, "line_blocked")
    assert blocked.conversation_id == latest


async def test_an_unknown_identity_unfollowing_is_kept_without_error(store: Store) -> None:
    before = await store.last_event_id()
    kept = await store.keep_channel_events(LINE, [_event(1, Follow.UNFOLLOW, "nobody", at(20))])
    assert kept == [True]
    assert not await store.is_opted_out("nobody", LINE)
    assert await store.last_event_id() == before
    # counted all the same: she was a friend before the desk knew her
    days = await store.friends_by_day(LINE, at(0), at(86400), TOKYO)
    assert [(d.added, d.lost) for d in days] == [(0, 1)]
    # and kept once
    assert await store.keep_channel_events(
        LINE, [_event(1, Follow.UNFOLLOW, "nobody", at(20))]
    ) == [False]


async def test_a_postback_is_an_event_with_its_data(store: Store) -> None:
    identity, conv_id = await _wrote(store)
    postback = _event(1, Follow.POSTBACK, identity, at(20), "survey=1&answer=yes")
    assert await store.keep_channel_events(LINE, [postback, postback]) == [True, False]
    (found,) = await _events(store, "line_postback")
    assert (found.conversation_id, found.at, found.data) == (
        conv_id,
        at(20),
        {"data": "survey=1&answer=yes"},
    )
    assert not await store.is_opted_out(identity, LINE)  # a postback blocks nothing
    # without a conversation there is nothing to show it on, and nothing goes wrong
    assert await store.keep_channel_events(
        LINE, [_event(2, Follow.POSTBACK, "nobody", at(21), "x")]
    ) == [True]
    assert len(await _events(store, "line_postback")) == 1


async def test_a_line_unfollow_leaves_her_sms_identity_alone(store: Store) -> None:
    """The same keyed hash on SMS is another identity: her LINE block is not an SMS STOP."""
    sender = "+819012345678"
    line_identity, line_conv = await _wrote(store, sender)
    sms = inbound(sender, channel=SMS, body="もしもし")
    (sms_stored,) = await store.save_inbound_batch([sms])
    assert sms.identity_hash == line_identity
    await store.keep_channel_events(LINE, [_event(1, Follow.UNFOLLOW, line_identity, at(20))])

    assert await store.is_opted_out(line_identity, LINE)
    assert not await store.is_opted_out(line_identity, SMS)
    assert not await store.recipient_opted_out(sms_stored.conversation_id)
    (blocked,) = await _events(store, "line_blocked", "sms_opted_out")
    assert blocked.conversation_id == line_conv  # her LINE one, though the SMS one is later


async def test_friends_are_counted_by_tokyo_day_within_the_range(store: Store) -> None:
    day5 = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # midnight starting the 5th in Tokyo
    events = [
        _event(1, Follow.FOLLOW, "a", day5 - timedelta(seconds=1)),  # the 4th: out of range
        _event(2, Follow.FOLLOW, "a", day5),  # 00:00 on the 5th
        _event(3, Follow.FOLLOW, "b", day5 + timedelta(hours=8, minutes=59)),  # 23:59 UTC 4th
        _event(4, Follow.UNFOLLOW, "a", datetime(2026, 12, 5, 15, 30, tzinfo=UTC)),  # the 6th
        _event(5, Follow.POSTBACK, "b", datetime(2026, 12, 5, 16, 0, tzinfo=UTC), "d"),
        _event(6, Follow.FOLLOW, "c", datetime(2026, 12, 6, 15, 0, tzinfo=UTC)),  # end: out
    ]
    await store.keep_channel_events(LINE, events)
    await store.keep_channel_events(LINE, events[1:3])  # redelivered: counted once
    end = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    assert await store.friends_by_day(LINE, day5, end, TOKYO) == [
        FriendsDay(date(2026, 12, 5), 2, 0),
        FriendsDay(date(2026, 12, 6), 0, 1),
    ]
    # the same instants asked in Tokyo time are the same range
    assert await store.friends_by_day(
        LINE, day5.astimezone(TOKYO), end.astimezone(TOKYO), TOKYO
    ) == [FriendsDay(date(2026, 12, 5), 2, 0), FriendsDay(date(2026, 12, 6), 0, 1)]
    assert await store.friends_by_day(SMS, day5, end, TOKYO) == []


async def test_a_display_name_is_kept_for_a_known_identity(store: Store) -> None:
    identity, _ = await _wrote(store)
    assert not await store.has_display_name(LINE, identity)
    await store.set_display_name(LINE, identity, "さくら🌸")
    assert await store.has_display_name(LINE, identity)
    assert not await store.has_display_name(SMS, identity)
    await store.set_display_name(LINE, "nobody", "x")  # unknown: nothing to name
    assert not await store.has_display_name(LINE, "nobody")
