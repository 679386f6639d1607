"""Twilio Voice's calls on both stores: a call in kept once per CallSid, states that never go
back, a missed call made a callback (once), a withheld one logged only, an answered one in her
timeline, the desk's call out and the outcome given afterwards. No number in a call or event."""

from __future__ import annotations

import pytest

from inbox.core.decisions import Assign
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, Event, Role
from inbox.core.phone import CallbackBy, CallDirection, Caller, NewCall, RetryAt
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user
from tests.storage.test_contract_calls import Rule, no_number_anywhere, phone_staff

NUMBER = "+819012345678"
CALLER = Caller(identity_hash="h-" + "a" * 60, e164=NUMBER)
SID = "CA" + "1" * 32


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


async def test_a_call_in_is_kept_once_per_call_sid(store: Store) -> None:
    first = await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    again = await store.call_arrived(SID, "ringing", CALLER, now=at(5))
    assert first.changed and not again.changed
    assert again.call == first.call
    c = first.call
    assert (c.direction, c.call_sid, c.call_status, c.withheld) == (
        CallDirection.INBOUND,
        SID,
        "ringing",
        False,
    )
    assert c.contact_id is not None and c.conversation_id is None
    assert [e.kind for e in await store.list_events()] == ["call_started"]
    await no_number_anywhere(store)


async def test_a_missed_call_becomes_a_queued_callback_once(store: Store) -> None:
    await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    change = await store.advance_call(SID, "missed", None, CALLER, now=at(30))
    assert change is not None and change.ended and change.callback is not None
    conv = await store.get_conversation(change.callback.conversation_id)
    assert (conv.channel, conv.status, conv.assignee_id) == (
        ChannelKind.PHONE,
        ConversationStatus.QUEUED,
        None,
    )
    assert change.call.conversation_id == conv.id and change.call.call_status == "missed"
    # the status callback after it: its duration is kept, and no second callback
    end = await store.advance_call(SID, "completed", 31, CALLER, now=at(31))
    assert end is not None and not end.ended and end.callback is None
    assert end.call.call_status == "missed" and end.call.duration_s == 31
    events = await store.list_events()
    (asked,) = [e for e in events if e.kind == "callback_requested"]
    assert asked.data["by"] == CallbackBy.MISSED_CALL.value and asked.conversation_id == conv.id
    (logged,) = [e for e in events if e.kind == "call_logged"]
    assert logged.conversation_id == conv.id and logged.data["direction"] == "inbound"
    assert [r.conversation_id for r in await store.open_callbacks(None)] == [conv.id]
    await no_number_anywhere(store)


async def test_a_final_status_without_a_dial_result_counts_as_missed(store: Store) -> None:
    await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    change = await store.advance_call(SID, "no-answer", 25, CALLER, now=at(30))
    assert change is not None and change.callback is not None
    # a miss inferred: the end status is kept, so the dial result may still say more
    assert change.call.call_status == "no-answer" and change.call.duration_s == 25
    late = await store.advance_call(SID, "missed", None, CALLER, now=at(31))
    assert late is not None and late.changed and late.callback is None
    assert late.call.call_status == "missed"
    assert len(await store.open_callbacks(None)) == 1


async def test_a_withheld_missed_call_is_logged_only(store: Store) -> None:
    arrived = await store.call_arrived(SID, "ringing", None, now=at(0))
    assert arrived.call.withheld and arrived.call.contact_id is None
    change = await store.advance_call(SID, "missed", None, None, now=at(30))
    assert change is not None and change.ended and change.callback is None
    assert change.call.conversation_id is None
    assert await store.open_callbacks(None) == []
    assert "callback_requested" not in kinds(await store.list_events())


async def test_an_answered_call_is_in_her_timeline_and_states_never_go_back(
    store: Store,
) -> None:
    await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    assert (await store.advance_call(SID, "in-progress", None, CALLER, now=at(5))) is not None
    answered = await store.advance_call(SID, "answered", 120, CALLER, now=at(130))
    assert answered is not None and answered.ended and answered.callback is None
    conv = await store.get_conversation(answered.call.conversation_id)  # type: ignore[arg-type]
    assert conv.status is ConversationStatus.CLOSED and conv.channel is ChannelKind.PHONE
    # out of order: ringing after the end changes nothing; the end's duration is the call's
    late = await store.advance_call(SID, "ringing", None, CALLER, now=at(131))
    assert late is not None and not late.changed and late.call.call_status == "answered"
    end = await store.advance_call(SID, "completed", 140, CALLER, now=at(141))
    assert end is not None and end.call.call_status == "answered" and end.call.duration_s == 140
    assert await store.calls_of(conv.id) == [end.call]
    timeline = await store.consulter_timeline(conv.contact_id)
    assert [s.conversation.id for s in timeline] == [conv.id]
    assert kinds(await store.list_events()).count("call_logged") == 1
    assert await store.advance_call("CA" + "9" * 32, "completed", 1, None, now=at(1)) is None


async def test_a_missed_call_joins_her_open_callback(store: Store) -> None:
    await store.call_arrived("CA" + "2" * 32, "ringing", CALLER, now=at(0))
    first = await store.advance_call("CA" + "2" * 32, "missed", None, CALLER, now=at(10))
    assert first is not None and first.callback is not None
    await store.call_arrived(SID, "ringing", CALLER, now=at(100))
    second = await store.advance_call(SID, "missed", None, CALLER, now=at(110))
    assert second is not None and second.callback is not None
    assert second.callback.conversation_id == first.callback.conversation_id
    assert not second.callback.created
    assert len(await store.open_callbacks(None)) == 1


async def test_a_call_out_from_the_desk_and_its_outcome(store: Store) -> None:
    phone = await counselor(store, "phone")
    await store.call_arrived("CA" + "3" * 32, "ringing", CALLER, now=at(0))
    missed = await store.advance_call("CA" + "3" * 32, "missed", None, CALLER, now=at(10))
    assert missed is not None and missed.callback is not None
    conv_id = missed.callback.conversation_id
    started = await store.start_call(conv_id, phone.id, now=at(60))
    assert (started.direction, started.call_status, started.staff_id, started.call_sid) == (
        CallDirection.OUTBOUND,
        "queued",
        phone.id,
        None,
    )
    placed = await store.call_placed(started.id, SID, now=at(61))
    assert placed.call_sid == SID
    with pytest.raises(Conflict):
        await store.call_placed(started.id, "CA" + "4" * 32, now=at(62))
    assert (await store.advance_call(SID, "in-progress", None, None, now=at(70))) is not None
    ended = await store.advance_call(SID, "missed", None, None, now=at(90))  # she did not answer
    assert ended is not None and ended.ended and ended.callback is None  # a call out: no callback
    entry = NewCall(
        direction=CallDirection.OUTBOUND,
        started_at=at(90),
        duration_s=None,
        outcome="no_answer",
        staff_id=phone.id,
        note="ないしょ",
    )
    rule = Rule()
    logged = await store.log_outcome(started.id, entry, now=at(100), retry=rule)
    assert logged.call.outcome == "no_answer" and logged.call.note == "ないしょ"
    assert isinstance(logged.callback, RetryAt)
    (tries, _), *_ = rule.seen
    assert [t.outcome for t in tries] == ["no_answer"]  # the call out is the try
    conv = await store.get_conversation(conv_id)
    assert conv.status is ConversationStatus.QUEUED
    with pytest.raises(Conflict):
        await store.log_outcome(started.id, entry, now=at(101), retry=rule)
    assert (await store.get_call(started.id)).outcome == "no_answer"
    with pytest.raises(NotFound):
        await store.get_call(10**9)
    await no_number_anywhere(store)


async def test_a_call_out_needs_a_phone_conversation(store: Store) -> None:
    phone = await counselor(store, "phone")
    (stored,) = await store.save_inbound_batch([inbound("mail@example.org")])
    with pytest.raises(Conflict):
        await store.start_call(stored.conversation_id, phone.id, now=at(1))
    refused = await store.start_call((await _callback(store)), phone.id, now=at(2))
    failed = await store.call_placed(refused.id, None, now=at(3))
    assert failed.call_status == "failed"
    assert await store.call_window_of(stored.conversation_id) is None


async def _callback(store: Store) -> ConversationId:
    await store.call_arrived("CA" + "5" * 32, "ringing", CALLER, now=at(0))
    missed = await store.advance_call("CA" + "5" * 32, "missed", None, CALLER, now=at(1))
    assert missed is not None and missed.callback is not None
    return missed.callback.conversation_id


async def test_calls_waiting_for_an_outcome(store: Store) -> None:
    phone = await counselor(store, "phone")
    other = await counselor(store, "other")
    other_caller = Caller(identity_hash="h-" + "b" * 60, e164="+819087654321")
    # her call in, answered: nobody's until someone logs it
    await store.call_arrived("CA" + "6" * 32, "ringing", CALLER, now=at(0))
    answered = await store.advance_call("CA" + "6" * 32, "answered", 60, CALLER, now=at(60))
    assert answered is not None
    # a missed call and a withheld missed one: their callback (or nothing) is the work
    await store.call_arrived("CA" + "7" * 32, "ringing", other_caller, now=at(70))
    await store.advance_call("CA" + "7" * 32, "missed", None, other_caller, now=at(80))
    await store.call_arrived("CA" + "8" * 32, "ringing", None, now=at(90))
    await store.advance_call("CA" + "8" * 32, "missed", None, None, now=at(95))
    # still ringing: not over yet
    await store.call_arrived("CA" + "a" * 32, "ringing", CALLER, now=at(96))
    # the desk's calls out: hers ended, another's ended, hers refused by Twilio
    conv_id = answered.call.conversation_id
    assert conv_id is not None
    callback = await _callback(store)
    mine = await store.start_call(callback, phone.id, now=at(100))
    await store.call_placed(mine.id, "CA" + "c" * 32, now=at(101))
    await store.advance_call("CA" + "c" * 32, "answered", 30, None, now=at(130))
    theirs = await store.start_call(callback, other.id, now=at(140))
    await store.call_placed(theirs.id, "CA" + "d" * 32, now=at(141))
    await store.advance_call("CA" + "d" * 32, "completed", 5, None, now=at(150))
    refused = await store.start_call(callback, phone.id, now=at(160))
    await store.call_placed(refused.id, None, now=at(161))
    everyone = [c.id for c in await store.open_calls(None)]
    assert everyone == [refused.id, theirs.id, mine.id, answered.call.id]  # newest first
    assert [c.id for c in await store.open_calls(phone.id)] == [
        refused.id,
        mine.id,
        answered.call.id,
    ]
    assert [c.id for c in await store.open_calls(None, limit=1)] == [refused.id]
    # an outcome given: no longer waiting
    entry = NewCall(
        direction=CallDirection.INBOUND,
        started_at=at(0),
        duration_s=None,
        outcome="reached",
        reached=True,
        staff_id=phone.id,
    )
    await store.log_outcome(answered.call.id, entry, now=at(200), retry=Rule())
    assert [c.id for c in await store.open_calls(phone.id)] == [refused.id, mine.id]
    await no_number_anywhere(store)


async def test_an_answered_dial_result_after_her_end_withdraws_the_inferred_callback(
    store: Store,
) -> None:
    """She hung up first on an answered call: the parent's end came before <Dial>'s result."""
    await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    ended = await store.advance_call(SID, "completed", 70, CALLER, now=at(70))
    assert ended is not None and ended.callback is not None  # inferred: missed so far
    conv_id = ended.callback.conversation_id
    answered = await store.advance_call(SID, "answered", 65, CALLER, now=at(71))
    assert answered is not None and answered.changed and answered.callback is None
    assert answered.call.call_status == "answered"
    conv = await store.get_conversation(conv_id)
    assert (conv.status, conv.outcome) == (ConversationStatus.CLOSED, "callback_withdrawn")
    assert await store.open_callbacks(None) == []
    events = await store.list_events()
    (withdrawn,) = [e for e in events if e.kind == "callback_withdrawn"]
    assert withdrawn.conversation_id == conv_id and withdrawn.data["call_id"] == answered.call.id
    assert kinds(events).count("call_logged") == 1
    # it waits for staff's outcome like any answered call
    assert [c.id for c in await store.open_calls(None)] == [answered.call.id]
    # and the end again (Twilio's retry) changes nothing more
    again = await store.advance_call(SID, "completed", 70, CALLER, now=at(72))
    assert again is not None and again.callback is None
    assert kinds(await store.list_events()).count("callback_withdrawn") == 1


async def test_a_dial_result_first_then_her_end_makes_no_callback(store: Store) -> None:
    await store.call_arrived(SID, "ringing", CALLER, now=at(0))
    answered = await store.advance_call(SID, "answered", 65, CALLER, now=at(70))
    assert answered is not None and answered.ended and answered.callback is None
    end = await store.advance_call(SID, "completed", 70, CALLER, now=at(71))
    assert end is not None and end.callback is None and end.call.call_status == "answered"
    assert await store.open_callbacks(None) == []
    assert "callback_requested" not in kinds(await store.list_events())


async def test_an_answered_result_keeps_a_callback_something_else_happened_on(
    store: Store,
) -> None:
    """Her callback was open before this call (another missed call): it stays open."""
    first = await _callback(store)
    await store.call_arrived(SID, "ringing", CALLER, now=at(100))
    ended = await store.advance_call(SID, "completed", 30, CALLER, now=at(130))
    assert ended is not None and ended.callback is not None
    assert ended.callback.conversation_id == first
    answered = await store.advance_call(SID, "answered", 25, CALLER, now=at(131))
    assert answered is not None and answered.call.call_status == "answered"
    assert (await store.get_conversation(first)).status is ConversationStatus.QUEUED
    assert "callback_withdrawn" not in kinds(await store.list_events())


async def test_a_status_callback_by_call_id_before_the_sid_is_stored(store: Store) -> None:
    phone = await counselor(store, "phone")
    started = await store.start_call(await _callback(store), phone.id, now=at(60))
    early = await store.advance_call(SID, "ringing", None, None, now=at(61), call_id=started.id)
    assert early is not None and early.call.call_sid == SID and early.call.call_status == "ringing"
    placed = await store.call_placed(started.id, SID, now=at(62))
    assert (placed.call_sid, placed.call_status) == (SID, "ringing")  # never back to queued
    other = "CA" + "6" * 32  # another call's sid under this id: not this call's news
    assert (
        await store.advance_call(other, "completed", 1, None, now=at(63), call_id=started.id)
        is None
    )
    with pytest.raises(Conflict):
        await store.call_placed(started.id, other, now=at(64))
    # an inbound call is never matched by id
    inbound_call = (await store.call_arrived(other, "ringing", CALLER, now=at(65))).call
    assert (
        await store.advance_call(other, "completed", 1, None, now=at(66), call_id=inbound_call.id)
        is None
    )


async def test_the_bridge_connects_once_for_its_own_live_call(store: Store) -> None:
    phone = await counselor(store, "phone")
    started = await store.start_call(await _callback(store), phone.id, now=at(60))
    assert await store.bridge_call(started.id, SID, now=at(61)) is None  # no sid yet
    await store.call_placed(started.id, SID, now=at(62))
    assert await store.bridge_call(started.id, "CA" + "7" * 32, now=at(63)) is None  # not its sid
    bridged = await store.bridge_call(started.id, SID, now=at(64))
    assert bridged is not None and bridged.call_status == "bridged"
    assert await store.bridge_call(started.id, SID, now=at(65)) is None  # a replay
    ended = await store.advance_call(SID, "completed", 40, None, now=at(100))
    assert ended is not None and ended.ended
    other = await store.start_call(
        ConversationId(ended.call.conversation_id or 0), phone.id, now=at(200)
    )
    await store.call_placed(other.id, "CA" + "8" * 32, now=at(201))
    await store.advance_call("CA" + "8" * 32, "no-answer", None, None, now=at(230))
    assert await store.bridge_call(other.id, "CA" + "8" * 32, now=at(231)) is None  # over
    assert await store.bridge_call(10**9, SID, now=at(232)) is None


async def test_claiming_a_callback_refuses_when_another_has_it(store: Store) -> None:
    """What dialing a callback does (POST .../dial): it becomes hers, unless it is another's;
    decided under the conversation's lock, so of two staff dialing at once one is refused."""
    staff = frozenset({Role.PHONE_STAFF})
    ayumi = await store.create_user(new_user("ayumi", roles=staff), now=at(0))
    kenta = await store.create_user(new_user("kenta", roles=staff), now=at(0))
    conv_id = await _callback(store)
    mine = await store.assign(
        conv_id, ayumi.id, actor_id=ayumi.id, now=at(5), capacity=None, unclaimed=True
    )
    assert (mine.status, mine.assignee_id) == (ConversationStatus.ASSIGNED, ayumi.id)
    with pytest.raises(Conflict):
        await store.assign(
            conv_id, kenta.id, actor_id=kenta.id, now=at(6), capacity=None, unclaimed=True
        )
    again = await store.assign(
        conv_id, ayumi.id, actor_id=ayumi.id, now=at(7), capacity=None, unclaimed=True
    )
    assert again.assignee_id == ayumi.id
    assigned = [e for e in await store.list_events() if e.kind == "conversation_assigned"]
    assert [e.actor_id for e in assigned] == [ayumi.id, ayumi.id]
    assert (await store.get_conversation(conv_id)).assignee_id == ayumi.id


async def test_a_callback_only_offered_meanwhile_is_still_withdrawn(store: Store) -> None:
    """The router is quick: it may offer the inferred miss's callback before the dial result
    comes. Offered, not opened: withdrawn all the same; opened by staff: kept."""
    staff = await phone_staff(store)
    for n, opened in ((1, False), (2, True)):
        sid = "CA" + str(n) * 32
        caller = Caller(identity_hash=f"h-{n}" + "b" * 59, e164=f"+8190123400{n:02d}")
        await store.call_arrived(sid, "ringing", caller, now=at(n * 1000))
        ended = await store.advance_call(sid, "completed", 40, caller, now=at(n * 1000 + 40))
        assert ended is not None and ended.callback is not None
        conv_id = ended.callback.conversation_id
        assign = Assign(conversation_id=conv_id, user_id=staff.id, capacity=5)
        assert await store.apply_assignments([assign], now=at(n * 1000 + 41))
        if opened:
            assert await store.mark_opened(conv_id, staff.id, now=at(n * 1000 + 42))
        await store.advance_call(sid, "answered", 35, caller, now=at(n * 1000 + 43))
        conv = await store.get_conversation(conv_id)
        expected = ConversationStatus.ASSIGNED if opened else ConversationStatus.CLOSED
        assert conv.status is expected, opened
    assert kinds(await store.list_events()).count("callback_withdrawn") == 1


async def test_a_call_out_that_timed_out_fails_even_if_twilio_placed_it(store: Store) -> None:
    """Twilio answered too late for us, yet placed the call: staff were told it failed, so
    it is failed, and the bridge never connects it."""
    phone = await counselor(store, "phone")
    started = await store.start_call(await _callback(store), phone.id, now=at(60))
    await store.advance_call(SID, "ringing", None, None, now=at(61), call_id=started.id)
    failed = await store.call_placed(started.id, None, now=at(75))
    assert failed.call_status == "failed"
    assert await store.bridge_call(started.id, SID, now=at(80)) is None
