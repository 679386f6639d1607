"""Escalation over a real store: a missed response target alerts supervisors and moves the
conversation up the queue; it goes to the on-call person only when the rota has someone on call
and no counselor on duty can take it. The deadline watcher and the router as the service wires
them (inbox.assembly.on_call_users over routing.rota), on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.core.model import (
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    Role,
    Shift,
    User,
    UserId,
)
from inbox.deadlines import DeadlineWatcher
from inbox.router import Router
from routing.deadlines import ResponseTargets, Targets
from routing.hours import ALWAYS_OPEN
from routing.rota import OnCallRota, on_call_at, parse_rota
from storage.base import Store
from tests.factories import inbound, new_user

TOKYO = ZoneInfo("Asia/Tokyo")
TARGETS = ResponseTargets(normal=Targets(first=timedelta(minutes=10), next=timedelta(minutes=20)))
# tanaka is on call on weekday nights; nobody on 2027-01-01, a Friday.
ROTA = parse_rota(
    {
        "weekly": [
            {"who": "tanaka", "days": ["weekdays"], "windows": ["00:00-09:00", "18:00-24:00"]}
        ],
        "dates": [{"date": "2027-01-01", "who": ""}],
    }
)
DAY_SHIFT = Shift(weekly=(((time(9), time(18)),),) * 7)


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO).astimezone(UTC)


class Desk:
    """A counselor on a day shift (sato, room for one), the supervisor tanaka (counselor role,
    no room of her own) and the watcher and router, all on one clock."""

    def __init__(self, store: Store, sato: User, tanaka: User, rota: OnCallRota) -> None:
        self.store, self.sato, self.tanaka = store, sato, tanaka
        self.now = datetime.min.replace(tzinfo=UTC)
        self.given: list[ConversationId] = []
        ids = {"sato": sato.id, "tanaka": tanaka.id}

        def on_call(now: datetime) -> UserId | None:
            name = on_call_at(rota, now, TOKYO)
            return None if name is None else ids[name]

        self.watcher = DeadlineWatcher(
            store, targets=TARGETS, hours_for=lambda _: ALWAYS_OPEN, clock=lambda: self.now
        )
        self.router = Router(
            store,
            clock=lambda: self.now,
            on_call=on_call,
            on_call_given=self.given.extend,
        )

    async def breach(self, start: datetime) -> ConversationId:
        """A consulter writes at `start`; 11 minutes later her 10-minute target is missed."""
        self.now = start
        (s,) = await self.store.save_inbound_batch([inbound("a", received_at=start)])
        await self.router.route_once()
        self.now = start + timedelta(minutes=11)
        (breached,) = await self.watcher.check_once()
        assert breached.alarm == "breach"
        await self.router.route_once()
        return s.conversation_id

    async def alerted(self, conv_id: ConversationId) -> bool:
        events = await self.store.list_events()
        return any(e.kind == "deadline_breached" and e.conversation_id == conv_id for e in events)


async def desk(store: Store, rota: OnCallRota = ROTA, *, sato_capacity: int = 1) -> Desk:
    t0 = tokyo("2026-11-01 00:00")
    sato = await store.create_user(new_user("sato", capacity=sato_capacity), now=t0)
    sato = await store.update_counselor(
        sato.id, CounselorUpdate(shift=DAY_SHIFT), actor_id=sato.id, now=t0
    )
    roles = frozenset({Role.SUPERVISOR, Role.COUNSELOR})
    tanaka = await store.create_user(new_user("tanaka", roles=roles, capacity=0), now=t0)
    return Desk(store, sato, tanaka, rota)


@pytest.mark.both_stores
async def test_a_breach_in_office_hours_goes_to_no_one_on_call(store: Store) -> None:
    d = await desk(store)
    # sato is on duty, busy with one consulter (her capacity is 1).
    d.now = tokyo("2026-11-24 11:00")  # a Tuesday
    (busy,) = await store.save_inbound_batch([inbound("b", received_at=d.now)])
    await d.router.route_once()
    assert (await store.get_conversation(busy.conversation_id)).assignee_id == d.sato.id
    await store.add_reply(busy.conversation_id, author_id=d.sato.id, body="はい", now=d.now)
    conv_id = await d.breach(tokyo("2026-11-24 12:00"))
    conv = await store.get_conversation(conv_id)
    # Up the queue and supervisors alerted; not handed to tanaka, who is not on call by day.
    assert conv.priority == 100 and conv.status is ConversationStatus.QUEUED
    assert conv.assignee_id is None and d.given == []
    assert await d.alerted(conv_id)
    # sato closes her first conversation: the breached one is hers, minutes later.
    await store.close(busy.conversation_id, actor_id=d.sato.id, now=d.now)
    (assigned,) = await d.router.route_once()
    assert (assigned.conversation_id, assigned.user_id) == (conv_id, d.sato.id)
    assert d.given == []


@pytest.mark.both_stores
async def test_a_breach_a_counselor_on_duty_can_take_is_hers_even_with_someone_always_on_call(
    store: Store,
) -> None:
    d = await desk(store, parse_rota("tanaka"), sato_capacity=2)  # the old form: always on call
    # She has room: the router offered it to her at once; the breach takes the unopened offer
    # back to the queue and the router offers it to her again, not to the person on call.
    conv_id = await d.breach(tokyo("2026-11-24 12:00"))
    conv = await store.get_conversation(conv_id)
    assert conv.priority == 100 and conv.assignee_id == d.sato.id
    assert d.given == [] and await d.alerted(conv_id)


@pytest.mark.both_stores
async def test_a_breach_at_night_with_no_one_on_duty_goes_to_the_person_on_call(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.breach(tokyo("2026-11-24 23:00"))  # sato's shift ended at 18:00
    conv = await store.get_conversation(conv_id)
    assert conv.priority == 100 and conv.assignee_id == d.tanaka.id  # over her capacity (0)
    assert d.given == [conv_id]  # the on-call mail is sent for it
    assert await d.alerted(conv_id)


@pytest.mark.both_stores
async def test_a_breach_when_the_rota_has_nobody_on_call_goes_to_no_one_and_still_alerts(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.breach(tokyo("2027-01-01 03:00"))  # a Friday night, but nobody that day
    conv = await store.get_conversation(conv_id)
    assert conv.priority == 100 and conv.status is ConversationStatus.QUEUED
    assert conv.assignee_id is None and d.given == []
    assert await d.alerted(conv_id)
    # Still waiting when the rota next has someone on call: it goes to her then.
    d.now = tokyo("2027-01-02 00:30")  # a Saturday: not in the weekly rota either
    await d.router.route_once()
    assert d.given == []
    d.now = tokyo("2027-01-04 08:00")  # Monday morning, before sato's shift
    await d.router.route_once()
    assert d.given == [conv_id]


async def test_the_service_resolves_the_rota_to_users_and_skips_an_unfit_name(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    from inbox.assembly import on_call_users
    from inbox.config import RoutingConfig

    d = await desk(store)
    rota = parse_rota(
        {
            "weekly": [
                {"who": "tanaka", "days": ["weekdays"], "windows": ["18:00-24:00"]},
                {"who": "ghost", "days": ["weekends"]},  # no such user
            ]
        }
    )
    on_call = await on_call_users(store, RoutingConfig(on_call=rota))
    assert on_call is not None
    assert on_call(tokyo("2026-11-24 23:00")) == d.tanaka.id
    assert on_call(tokyo("2026-11-24 12:00")) is None
    assert on_call(tokyo("2026-11-28 12:00")) is None  # ghost's Saturday: no one
    assert "'ghost' is not an enabled user" in caplog.text
    # A rota naming only unfit people: on-call is off (no mailer is built for it).
    assert await on_call_users(store, RoutingConfig(on_call=parse_rota("ghost"))) is None
    assert await on_call_users(store, RoutingConfig()) is None
