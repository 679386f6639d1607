"""The phone desk on both stores: calls logged (withheld, by number, on a callback), the retry
rule applied in the logging transaction, callback requests from another channel, and what
phone staff's screens read. No number in a calls row or an event."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pytest

from inbox.core.errors import CallbackTaken, Conflict, NumberOfOtherConsulter
from inbox.core.model import ChannelKind, ConversationStatus, Role, User
from inbox.core.phone import (
    CallbackBy,
    CallDirection,
    Caller,
    CloseCallback,
    NewCall,
    OpenCallback,
    PastTry,
    RetryAt,
    TryDecision,
)
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user

NUMBER = "+819012345678"
CALLER = Caller(identity_hash="h-" + "a" * 60, e164=NUMBER)


async def phone_staff(store: Store) -> User:
    """Phone staff: the only ones a phone conversation may be assigned to."""
    roles = frozenset({Role.PHONE_STAFF})
    return await store.create_user(new_user("phone", roles=roles), now=at(0))


class Rule:
    """A stand-in retry rule: records what it was given; closes as reached on "reached",
    after `tries`, else retries an hour after now."""

    def __init__(self, tries: int = 3) -> None:
        self.tries = tries
        self.seen: list[tuple[list[PastTry], str | None]] = []

    def __call__(self, tries: Sequence[PastTry], window: str | None) -> TryDecision:
        self.seen.append((list(tries), window))
        if any(t.outcome == "reached" for t in tries):
            return CloseCallback(reason="reached", outcome="reached")
        if len(tries) >= self.tries:
            return CloseCallback(reason="tries_used")
        return RetryAt(at=at(3600))


def call(**kw: object) -> NewCall:
    base: dict[str, object] = {
        "direction": CallDirection.OUTBOUND,
        "started_at": at(0),
        "duration_s": 30,
        "outcome": "no_answer",
        "staff_id": None,
    }
    return NewCall(**(base | kw))  # type: ignore[arg-type]


async def no_number_anywhere(store: Store) -> None:
    for e in await store.list_events():
        assert NUMBER not in repr(e.data) and "ないしょ" not in repr(e.data)


async def test_a_withheld_call_is_a_calls_row_alone(store: Store) -> None:
    phone = await phone_staff(store)
    logged = await store.log_call(
        call(withheld=True, staff_id=phone.id, note="ないしょ", referrals=("police",)),
        now=at(60),
        retry=Rule(),
    )
    c = logged.call
    assert (c.conversation_id, c.contact_id, c.withheld, c.referrals) == (
        None,
        None,
        True,
        ("police",),
    )
    assert logged.callback is None
    assert (await store.recent_calls(phone.id))[0] == c
    (event,) = [e for e in await store.list_events() if e.kind == "call_logged"]
    assert event.conversation_id is None and event.data["withheld"] is True
    assert event.data["referrals"] == ["police"] and "note" not in event.data
    await no_number_anywhere(store)


async def test_a_call_by_number_makes_a_closed_phone_conversation_in_her_timeline(
    store: Store,
) -> None:
    phone = await phone_staff(store)
    logged = await store.log_call(
        call(
            caller=CALLER,
            staff_id=phone.id,
            outcome="reached",
            reached=True,
            follow_up=date(2026, 12, 1),
        ),
        now=at(60),
        retry=Rule(),
    )
    conv = await store.get_conversation(logged.call.conversation_id)  # type: ignore[arg-type]
    assert (conv.channel, conv.status, conv.assignee_id, conv.outcome) == (
        ChannelKind.PHONE,
        ConversationStatus.CLOSED,
        phone.id,
        "reached",
    )
    assert logged.call.contact_id == conv.contact_id and logged.call.follow_up == date(2026, 12, 1)
    timeline = await store.consulter_timeline(conv.contact_id)
    assert [s.conversation.id for s in timeline] == [conv.id]
    assert await store.calls_of(conv.id) == [logged.call]
    # the same number again: the same contact, a new conversation
    again = await store.log_call(call(caller=CALLER), now=at(120), retry=Rule())
    assert again.call.contact_id == conv.contact_id
    assert again.call.conversation_id != conv.id
    await no_number_anywhere(store)


async def test_a_follow_up_opens_a_callback_due_then(store: Store) -> None:
    phone = await phone_staff(store)
    due = at(86400)
    logged = await store.log_call(
        call(caller=CALLER, staff_id=phone.id, callback=OpenCallback(due_at=due)),
        now=at(60),
        retry=Rule(),
    )
    assert logged.callback == RetryAt(at=due)
    conv_id = logged.call.conversation_id
    assert conv_id is not None
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.QUEUED, None)
    (row,) = await store.open_callbacks(None)
    assert (row.conversation_id, row.due_at, row.tries, row.window) == (conv_id, due, 0, None)
    kinds = [e.kind for e in await store.list_events() if e.conversation_id == conv_id]
    assert kinds == ["call_logged", "callback_requested"]


async def test_tries_on_a_callback_retry_then_close_with_tries_used(store: Store) -> None:
    phone = await phone_staff(store)
    first = await store.log_call(
        call(
            caller=CALLER,
            direction=CallDirection.INBOUND,
            callback=OpenCallback(due_at=at(0), by=CallbackBy.MISSED_CALL),
        ),
        now=at(0),
        retry=Rule(),
    )
    conv_id = first.call.conversation_id
    assert conv_id is not None
    await store.assign(conv_id, phone.id, actor_id=phone.id, now=at(1), capacity=None)
    rule = Rule(tries=2)
    one = await store.log_call(
        call(conversation_id=conv_id, staff_id=phone.id, started_at=at(10)),
        now=at(20),
        retry=rule,
    )
    assert one.callback == RetryAt(at=at(3600))
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.QUEUED, None)
    (row,) = await store.open_callbacks(phone.id)
    assert (row.tries, row.due_at) == (1, at(3600))
    # the first call (inbound, missed) opened it; only the desk's tries count
    assert [t.at for t in rule.seen[0][0]] == [at(10)]
    two = await store.log_call(
        call(conversation_id=conv_id, staff_id=phone.id, started_at=at(4000)),
        now=at(4000),
        retry=rule,
    )
    assert two.callback == CloseCallback(reason="tries_used")
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.outcome) == (ConversationStatus.CLOSED, "callback_tries_used")
    assert await store.open_callbacks(None) == []
    events = [e for e in await store.list_events() if e.conversation_id == conv_id]
    retry = next(e for e in events if e.kind == "callback_retry_scheduled")
    assert retry.data == {"tries": 1, "at": at(3600).isoformat()}
    closed = next(e for e in events if e.kind == "callback_closed")
    assert closed.data == {"reason": "tries_used"}
    assert any(e.kind == "conversation_closed" for e in events)
    # a closed callback takes no more tries
    with pytest.raises(Conflict):
        await store.log_call(call(conversation_id=conv_id), now=at(5000), retry=rule)


async def test_reaching_her_closes_the_callback_as_reached(store: Store) -> None:
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    conv_id = first.call.conversation_id
    assert conv_id is not None
    # her number without the conversation id: the call lands on her open callback
    done = await store.log_call(
        call(caller=CALLER, outcome="reached", reached=True), now=at(30), retry=Rule()
    )
    assert done.call.conversation_id == conv_id
    assert done.callback == CloseCallback(reason="reached", outcome="reached")
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.outcome) == (ConversationStatus.CLOSED, "reached")
    assert conv.closed_at == at(30) and conv.assignee_id is None  # logged by no one


async def test_whoever_ends_a_callback_from_the_queue_handled_it(store: Store) -> None:
    phone = await phone_staff(store)
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    conv_id = first.call.conversation_id
    assert conv_id is not None
    await store.log_call(
        call(conversation_id=conv_id, staff_id=phone.id, outcome="reached"),
        now=at(30),
        retry=Rule(),
    )
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.CLOSED, phone.id)
    (summary,) = await store.consulter_timeline(conv.contact_id)
    assert summary.handled_by == phone.id


async def test_an_unanswered_call_of_hers_only_joins_the_open_callback(store: Store) -> None:
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    joined = await store.log_call(
        call(caller=CALLER, direction=CallDirection.INBOUND), now=at(30), retry=Rule()
    )
    assert joined.callback is None and joined.call.conversation_id == first.call.conversation_id
    (row,) = await store.open_callbacks(None)
    assert row.tries == 0


async def test_a_callback_is_only_worked_with_its_own_number_on_a_phone_conversation(
    store: Store,
) -> None:
    (chat,) = await store.save_inbound_batch([inbound("a@example.jp")])
    with pytest.raises(Conflict):
        await store.log_call(call(conversation_id=chat.conversation_id), now=at(1), retry=Rule())
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    other = Caller(identity_hash="h-" + "b" * 60, e164="+819011112222")
    with pytest.raises(Conflict):
        await store.log_call(
            call(conversation_id=first.call.conversation_id, caller=other),
            now=at(1),
            retry=Rule(),
        )


async def test_a_callback_request_links_her_number_to_her_contact_with_her_window(
    store: Store,
) -> None:
    sato = await counselor(store, "sato")
    (chat,) = await store.save_inbound_batch([inbound("a@example.jp")])
    source = await store.get_conversation(chat.conversation_id)
    window = '{"weekdays": ["12:00-13:00"]}'
    asked = await store.request_callback(
        source.id, CALLER, window_json=window, note="昼休みに", actor_id=sato.id, now=at(10)
    )
    assert (asked.created, asked.other_contact) == (True, False)
    phone = await store.get_conversation(asked.conversation_id)
    assert (phone.channel, phone.status, phone.contact_id) == (
        ChannelKind.PHONE,
        ConversationStatus.QUEUED,
        source.contact_id,
    )
    (row,) = await store.open_callbacks(None)
    assert (row.window, row.discretion, row.waiting_since) == (window, False, at(10))
    notes = await store.list_messages(phone.id)
    assert [m.body for m in notes] == ["昼休みに"]
    # asked again: the open one; no window given keeps hers (null never clears it)
    again = await store.request_callback(
        source.id, CALLER, window_json=None, note="", actor_id=sato.id, now=at(20)
    )
    assert (again.conversation_id, again.created) == (phone.id, False)
    assert (await store.open_callbacks(None))[0].window == window
    events = [e for e in await store.list_events() if e.kind == "callback_requested"]
    assert events[0].data["window"] is True and events[0].data["by"] == "staff"
    assert events[1].data["window"] is False
    await no_number_anywhere(store)


async def test_a_number_known_as_another_contact_is_refused_and_nothing_changes(
    store: Store,
) -> None:
    sato = await counselor(store, "sato")
    (first,) = await store.save_inbound_batch([inbound("a@example.jp")])
    window = '{"weekdays": ["12:00-13:00"]}'
    known = await store.request_callback(
        first.conversation_id, CALLER, window_json=window, note="", actor_id=sato.id, now=at(0)
    )
    (chat,) = await store.save_inbound_batch([inbound("b@example.jp")])
    before = await store.list_events()
    with pytest.raises(NumberOfOtherConsulter):
        await store.request_callback(
            chat.conversation_id,
            CALLER,
            window_json=None,
            note="秘密",
            actor_id=sato.id,
            now=at(10),
        )
    assert await store.list_events() == before
    (row,) = await store.open_callbacks(None)  # the other's callback, her window as it was
    assert (row.conversation_id, row.window) == (known.conversation_id, window)
    assert await store.list_messages(known.conversation_id) == []


async def test_a_follow_up_callback_counts_only_its_own_tries(store: Store) -> None:
    """Reached her Monday, follow-up Thursday: Thursday's first no answer is a first try."""
    phone = await phone_staff(store)
    monday = await store.log_call(
        call(
            caller=CALLER,
            staff_id=phone.id,
            outcome="reached",
            reached=True,
            callback=OpenCallback(due_at=at(3 * 86400)),
        ),
        now=at(0),
        retry=Rule(),
    )
    conv_id = monday.call.conversation_id
    assert conv_id is not None
    # a call out Twilio never placed (no outcome) is no try either
    await store.start_call(conv_id, phone.id, now=at(3 * 86400))
    rule = Rule()
    thursday = await store.log_call(
        call(conversation_id=conv_id, staff_id=phone.id, started_at=at(3 * 86400 + 60)),
        now=at(3 * 86400 + 120),
        retry=rule,
    )
    assert thursday.callback == RetryAt(at=at(3600))
    assert [t.at for t in rule.seen[0][0]] == [at(3 * 86400 + 60)]


async def test_phone_staff_work_only_their_own_or_a_queued_callback(store: Store) -> None:
    mine = await phone_staff(store)
    other = await store.create_user(
        new_user("phone2", roles=frozenset({Role.PHONE_STAFF})), now=at(0)
    )
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    conv_id = first.call.conversation_id
    assert conv_id is not None
    await store.assign(conv_id, mine.id, actor_id=mine.id, now=at(1), capacity=None)
    before = await store.list_events()
    with pytest.raises(CallbackTaken):
        await store.log_call(
            call(conversation_id=conv_id, staff_id=other.id), now=at(10), retry=Rule()
        )
    assert await store.list_events() == before
    # a supervisor may
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    done = await store.log_call(
        call(conversation_id=conv_id, staff_id=boss.id, any_callback=True),
        now=at(20),
        retry=Rule(),
    )
    assert done.callback == RetryAt(at=at(3600))
    # queued again: her unanswered call only joins it, nobody takes it
    await store.log_call(
        call(conversation_id=conv_id, staff_id=other.id, direction=CallDirection.INBOUND),
        now=at(25),
        retry=Rule(),
    )
    assert (await store.get_conversation(conv_id)).assignee_id is None
    # the other takes it by working it (claimed in the same transaction)
    await store.log_call(
        call(conversation_id=conv_id, staff_id=other.id, outcome="reached"),
        now=at(30),
        retry=Rule(),
    )
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.CLOSED, other.id)
    taken = [e for e in await store.list_events() if e.kind == "conversation_assigned"]
    assert taken[-1].data == {"user_id": other.id, "from_user_id": None}


async def test_a_follow_up_on_the_try_that_reached_her_opens_a_new_callback(
    store: Store,
) -> None:
    phone = await phone_staff(store)
    first = await store.log_call(
        call(caller=CALLER, callback=OpenCallback(due_at=at(0))), now=at(0), retry=Rule()
    )
    conv_id = first.call.conversation_id
    assert conv_id is not None
    thursday = at(3 * 86400)

    def reached(tries: Sequence[PastTry], window: str | None) -> TryDecision:
        return CloseCallback(reason="reached", outcome="reached", follow_up_at=thursday)

    done = await store.log_call(
        call(
            conversation_id=conv_id,
            staff_id=phone.id,
            outcome="reached",
            follow_up=date(2026, 11, 25),
        ),
        now=at(30),
        retry=reached,
    )
    assert isinstance(done.callback, CloseCallback)
    assert (await store.get_conversation(conv_id)).status is ConversationStatus.CLOSED
    (row,) = await store.open_callbacks(None)
    assert row.conversation_id != conv_id and row.due_at == thursday and row.tries == 0
    asked = [e for e in await store.list_events() if e.conversation_id == row.conversation_id]
    assert [e.kind for e in asked] == ["callback_requested"]
    assert asked[0].actor_id == phone.id and asked[0].data["by"] == "staff"


async def test_writers_opening_her_phone_conversation_at_once_share_it(
    store: Store,
) -> None:
    await store.log_call(call(caller=CALLER), now=at(0), retry=Rule())  # her number is known

    async def follow_up(n: int) -> datetime:
        logged = await store.log_call(
            call(caller=CALLER, started_at=at(n), callback=OpenCallback(due_at=at(86400))),
            now=at(10),
            retry=Rule(),
        )
        assert logged.call.conversation_id is not None
        return logged.call.started_at

    await asyncio.gather(*(follow_up(n) for n in range(1, 7)))
    (row,) = await store.open_callbacks(None)
    calls = await store.calls_of(row.conversation_id)
    assert sorted(c.started_at for c in calls) == [at(n) for n in range(1, 7)]


async def test_recent_calls_newest_first_and_only_hers(store: Store) -> None:
    a = await counselor(store, "a")
    b = await counselor(store, "b")
    for i, who in enumerate([a, b, a]):
        await store.log_call(
            call(withheld=True, staff_id=who.id, started_at=at(i * 60)), now=at(500), retry=Rule()
        )
    mine = await store.recent_calls(a.id)
    assert [c.started_at for c in mine] == [at(120), at(0)]
    assert len(await store.recent_calls(None, limit=2)) == 2
    assert await store.calls_in([]) == []
    assert at(0) - timedelta(0) == mine[-1].started_at
