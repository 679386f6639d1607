"""The phone desk's commands: the form read and checked (a follow-up's morning in the program's
zone, the number keyed as intake keys it), the retry rule over her window, and every event a
command commits waking whoever its kind concerns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox.commands.calls import CallCommands
from inbox.commands.writes import STORE_WRITES
from inbox.core.errors import ValidationError
from inbox.core.model import ChannelKind, Role
from inbox.core.phone import CallDirection, CloseCallback, OpenCallback, PastTry, RetryAt
from inbox.phone_config import PhoneConfig
from routing.callbacks import next_allowed
from routing.hours import parse_service_hours
from storage.base import Store
from tests.factories import inbound, new_user

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Tokyo


class Heard:
    def __init__(self) -> None:
        self.kinds: set[str] = set()

    def after(self, kinds: Iterable[str]) -> None:
        self.kinds |= set(kinds)


def commands(store: Store, heard: Heard | None = None, **kw: Any) -> CallCommands:
    return CallCommands(
        store,
        clock=lambda: NOW,
        signals=heard or Heard(),
        identity_of=lambda channel, number: f"{channel}:hash-of-{len(number)}-digits",
        phone=PhoneConfig(),
        region="JP",
        timezone=TOKYO,
        **kw,
    )


def form(**kw: Any) -> dict[str, Any]:
    return {
        "direction": "outbound",
        "started_at": "2026-12-01T09:55:00+09:00",
        "duration_s": 0,
        "number": "090-1234-5678",
        "outcome": "no_answer",
    } | kw


async def test_a_follow_up_is_due_that_morning_in_the_program_zone(store: Store) -> None:
    entry = commands(store).read_call(form(follow_up="2026-12-03", note="また"), staff=None)
    assert entry.callback == OpenCallback(due_at=datetime(2026, 12, 3, 9, tzinfo=TOKYO))
    assert entry.follow_up == date(2026, 12, 3) and entry.note == "また"
    assert entry.caller is not None and entry.caller.e164 == "+819012345678"
    assert entry.caller.identity_hash == "phone:hash-of-13-digits"
    assert "9012345678" not in repr(entry)
    assert (entry.direction, entry.reached) == (CallDirection.OUTBOUND, False)
    assert commands(store).read_call(form(outcome="declined"), staff=None).reached


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_at": "2026-12-01T12:00:00+09:00"}, "started_at"),  # two hours ahead
        ({"follow_up": "2026-11-30"}, "follow_up"),  # yesterday in Tokyo
        ({"number": None, "withheld": False}, "number"),
        ({"conversation": 5, "withheld": True, "number": None}, "withheld"),
        ({"number": 9012345678}, "number"),
    ],
)
def test_the_form_is_checked(store: Store, change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        commands(store).read_call(form(**change), staff=None)
    assert info.value.field == field
    assert "1234" not in str(info.value)


def test_a_callback_worked_without_her_number_needs_none(store: Store) -> None:
    entry = commands(store).read_call(form(number=None, conversation=7), staff=None)
    assert (entry.caller, entry.conversation_id, entry.callback) == (None, 7, None)


def test_the_retry_rule_keeps_to_her_window_else_the_desk_hours(store: Store) -> None:
    hours = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.phone")
    decide = commands(store, hours=hours).retry_rule(NOW)
    tried = [PastTry(at=NOW, outcome="no_answer")]
    found = decide(tried, '{"weekdays": ["12:00-13:00"]}')
    assert isinstance(found, RetryAt)
    local = found.at.astimezone(TOKYO)
    assert 12 <= local.hour < 13 and local.weekday() < 5 and found.at >= NOW + timedelta(hours=2)
    found = decide(tried, None)  # the desk's hours
    assert isinstance(found, RetryAt)
    assert 9 <= found.at.astimezone(TOKYO).hour < 18
    three = [PastTry(at=NOW + timedelta(hours=h), outcome="busy") for h in (0, 3, 6)]
    assert decide(three, None) == CloseCallback(reason="tries_used")
    assert decide([*tried, PastTry(at=NOW, outcome="reached")], None) == CloseCallback(
        reason="reached", outcome="reached"
    )


def test_a_window_is_checked_and_kept_as_json(store: Store) -> None:
    calls = commands(store)
    assert calls.window({"weekdays": ["12:00-13:00"]}) == '{"weekdays": ["12:00-13:00"]}'
    assert calls.window(None) is None
    with pytest.raises(ValidationError) as info:
        calls.window({"weekdays": ["13:00-12:00"]})
    assert info.value.field == "window"


async def test_every_call_command_wakes_whoever_its_events_concern(store: Store) -> None:
    heard = Heard()
    calls = commands(store, heard)
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=NOW)
    (chat,) = await store.save_inbound_batch([inbound()])
    start = (await store.list_events())[-1].id
    asked = await calls.request_callback(
        chat.conversation_id, {"number": "090-1234-5678", "note": "昼に"}, actor=boss.id
    )
    no_answer = calls.read_call(
        form(number=None, conversation=asked.conversation_id), staff=boss.id
    )
    await calls.log_call(no_answer)
    reached = calls.read_call(
        form(number=None, conversation=asked.conversation_id, outcome="reached"), staff=boss.id
    )
    await calls.log_call(reached)
    await calls.log_call(
        calls.read_call(form(number="03-1234-5678", follow_up="2026-12-02"), staff=None)
    )
    await calls.log_call(calls.read_call(form(number=None, withheld=True), staff=None))
    written = {e.kind for e in await store.list_events(after_id=start)}
    assert written <= heard.kinds
    assert written <= STORE_WRITES["log_call"] | STORE_WRITES["request_callback"]
    assert {"callback_retry_scheduled", "callback_closed", "callback_requested"} <= written
    conv = await store.get_conversation(asked.conversation_id)
    assert conv.channel is ChannelKind.PHONE and conv.outcome == "reached"


def test_an_unreadable_stored_window_counts_as_none(store: Store) -> None:
    hours = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.phone")
    calls = commands(store, hours=hours)
    assert calls.window_hours("not json") is hours
    assert calls.window_hours('{"someday": ["12:00-13:00"]}') is hours
    assert calls.window_hours(None) is hours
    assert calls.window_hours('{"weekdays": ["12:00-13:00"]}') is not hours


def test_her_window_is_used_within_the_desk_phone_hours(store: Store) -> None:
    """Her window 08:00-10:00, the desk's 09:00-17:30: only 09:00-10:00 is a moment to call."""
    hours = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.phone")
    calls = commands(store, hours=hours)
    allowed = calls.window_hours('{"everyday": ["08:00-10:00"]}')
    decide = calls.retry_rule(NOW)
    found = decide([PastTry(at=NOW, outcome="no_answer")], '{"everyday": ["08:00-10:00"]}')
    assert isinstance(found, RetryAt)
    local = found.at.astimezone(TOKYO)
    assert local.weekday() < 5 and local.hour == 9  # not 08:xx (desk closed), not a weekend
    wednesday_8 = datetime(2026, 12, 2, 8, 30, tzinfo=TOKYO)
    assert next_allowed(allowed, wednesday_8) == datetime(2026, 12, 2, 9, 0, tzinfo=TOKYO)


def test_a_window_that_never_meets_the_desk_hours_is_refused(store: Store) -> None:
    hours = parse_service_hours({"weekdays": ["09:00-17:30"]}, "routing.hours.phone")
    calls = commands(store, hours=hours)
    for never in ({"weekdays": ["18:00-20:00"]}, {"saturday": ["10:00-12:00"]}):
        with pytest.raises(ValidationError) as info:
            calls.window(never)
        assert info.value.field == "window" and "phone hours" in str(info.value)
    assert calls.window({"weekdays": ["17:00-20:00"]}) == '{"weekdays": ["17:00-20:00"]}'


def test_a_follow_up_on_a_try_delays_its_retry_to_that_morning(store: Store) -> None:
    calls = commands(store)
    tried = [PastTry(at=NOW, outcome="no_answer")]
    later = calls.retry_rule(NOW, date(2026, 12, 4))(tried, None)
    assert later == RetryAt(at=datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO))
    sooner = calls.retry_rule(NOW, date(2026, 12, 1))(tried, None)  # today: the rule's time
    assert isinstance(sooner, RetryAt) and sooner.at >= NOW + timedelta(hours=2)
    reached = calls.retry_rule(NOW, date(2026, 12, 4))([PastTry(at=NOW, outcome="reached")], None)
    assert reached == CloseCallback(
        reason="reached",
        outcome="reached",
        follow_up_at=datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO),
    )


async def test_a_follow_up_given_on_the_try_that_reached_her_opens_a_callback(
    store: Store,
) -> None:
    calls = commands(store)
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=NOW)
    (chat,) = await store.save_inbound_batch([inbound()])
    asked = await calls.request_callback(
        chat.conversation_id, {"number": "090-1234-5678"}, actor=boss.id
    )
    entry = calls.read_call(
        form(
            number=None,
            conversation=asked.conversation_id,
            outcome="reached",
            follow_up="2026-12-04",
        ),
        staff=boss.id,
        any_callback=True,
    )
    assert entry.any_callback is True
    await calls.log_call(entry)
    (row,) = await store.open_callbacks(None)
    assert row.conversation_id != asked.conversation_id
    assert row.due_at == datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO)
