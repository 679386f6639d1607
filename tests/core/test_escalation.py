"""Escalation over a real store: a missed response target alerts supervisors and moves the
conversation up the queue; it goes to the on-call person only when the rota has someone on call
and no counselor on duty can take it, and then the consulter is told a counselor is reading now
(not the after-hours reply with the next opening). The deadline watcher, the router and the
auto-replies as the service wires them (inbox.assembly.on_call_users over routing.rota), on
both stores."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.autoreply import HOLD, AutoReplier
from inbox.core.model import (
    NO_LABELS,
    ChannelKind,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    Direction,
    IntakeLabels,
    Role,
    Shift,
    User,
    UserId,
)
from inbox.deadlines import DeadlineWatcher
from inbox.router import Router
from routing.deadlines import ResponseTargets, Targets
from routing.hours import ALWAYS_OPEN, ServiceHours, parse_service_hours
from routing.replies import ReplyTexts
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
# LINE is open on weekdays 9-18; the web chat always.
LINE_HOURS = parse_service_hours({"weekdays": ["09:00-18:00"]}, "routing.hours.line")
TEXTS = ReplyTexts(program="つなぐ相談", program_en="Tsunagu")
ON_CALL_JA = "いま相談員があなたのメッセージを読んでいます"
ON_CALL_EN = "A counselor is reading it now"
AFTER_HOURS_JA = "受付時間外"


def hours_for(channel: ChannelKind) -> ServiceHours:
    return LINE_HOURS if channel is ChannelKind.LINE else ALWAYS_OPEN


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
            store, targets=TARGETS, hours_for=hours_for, clock=lambda: self.now
        )
        self.on_call = on_call
        self.replier = self.new_replier()
        self.router = self.new_router()

    def new_replier(self) -> AutoReplier:
        """The auto-replier as inbox.assembly wires it: a new one is a restarted process."""
        return AutoReplier(
            self.store,
            texts=TEXTS,
            hours_for=hours_for,
            clock=lambda: self.now,
            on_call=lambda now: self.on_call(now) is not None,
            urgent_priority=100,
        )

    def new_router(self, replier: AutoReplier | None = None) -> Router:
        """A router telling the current replier, or another instance's `replier`."""
        return Router(
            self.store,
            clock=lambda: self.now,
            hours_for=hours_for,
            on_round=replier.routed if replier else lambda *round_: self.replier.routed(*round_),
            on_call=self.on_call,
            on_call_given=self.given.extend,
        )

    async def restart(self) -> int:
        """The process stops (its replier's memory is lost) and starts again: recovery."""
        self.replier = self.new_replier()
        return await self.replier.recover()

    async def write(
        self,
        at: datetime,
        body: str = "こんにちは",
        *,
        labels: IntakeLabels = NO_LABELS,
        sender: str = "a",
    ) -> ConversationId:
        """A consulter writes on LINE at `at` (labelled as rules and triage would)."""
        self.now = at
        item = inbound(sender, channel=ChannelKind.LINE, received_at=at, body=body)
        item = dataclasses.replace(item, labels=labels)
        (s,) = await self.store.save_inbound_batch([item])
        self.replier.stored([(item, s)])
        return s.conversation_id

    async def replies(self, conv_id: ConversationId) -> list[str]:
        """Every automatic reply queued to her so far, after the replier's pending pass."""
        await self.replier.send_pending()
        messages = await self.store.list_messages(conv_id)
        return [m.body for m in messages if m.direction is Direction.OUTBOUND]

    async def breach(self, start: datetime) -> ConversationId:
        """A consulter writes at `start`; 11 minutes later her 10-minute target is missed."""
        self.now = start
        item = inbound("a", received_at=start)
        (s,) = await self.store.save_inbound_batch([item])
        self.replier.stored([(item, s)])
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
    assert not any(ON_CALL_JA in text for text in await d.replies(conv_id))


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
    # She is told a counselor is reading; her place in line, due since the 23:00 round, is
    # not sent after that (the on-call message stands in for it).
    texts = await d.replies(conv_id)
    assert len(texts) == 1 and "番目" not in texts[0]
    # No alert: her language is read from her latest message, こんにちは.
    assert ON_CALL_JA in texts[0] and ON_CALL_EN not in texts[0]
    assert await d.replies(conv_id) == texts  # once per conversation


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
    assert not any(ON_CALL_JA in text for text in await d.replies(conv_id))
    # Still waiting when the rota next has someone on call: it goes to her then.
    d.now = tokyo("2027-01-02 00:30")  # a Saturday: not in the weekly rota either
    await d.router.route_once()
    assert d.given == []
    d.now = tokyo("2027-01-04 08:00")  # Monday morning, before sato's shift
    await d.router.route_once()
    assert d.given == [conv_id]
    assert ON_CALL_JA in (await d.replies(conv_id))[-1]


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


URGENT = IntakeLabels(priority=100, alert="suicide_risk")  # as urgent triage labels 死にたい


@pytest.mark.both_stores
async def test_an_urgent_consulter_handed_to_the_person_on_call_at_night_is_told_someone_reads(
    store: Store,
) -> None:
    d = await desk(store)
    # Tuesday 23:00: LINE is closed, sato's shift is over, tanaka is on call.
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    # The replier's pass comes first: the safety message goes at once; "we will reply from
    # Wednesday 9:00" waits for the router's round, since someone is on call.
    (safety,) = await d.replies(conv_id)
    assert "0120-279-338" in safety
    await d.router.route_once()
    assert d.given == [conv_id]
    assert (await store.get_conversation(conv_id)).assignee_id == d.tanaka.id
    texts = await d.replies(conv_id)
    assert texts[0] == safety and len(texts) == 2
    assert ON_CALL_JA in texts[1] and "This is" not in texts[1]  # she wrote Japanese
    assert AFTER_HOURS_JA not in texts[1] and "以降" not in texts[1]
    # Once per conversation: she writes again that night, and the service restarts.
    await d.write(tokyo("2026-11-24 23:20"), "まだいますか")
    assert await d.replies(conv_id) == texts
    # The replier's state is memory only: after a restart a new one recovers from the store.
    assert await d.restart() == 0
    assert len(await d.replies(conv_id)) == 2


@pytest.mark.both_stores
async def test_the_on_call_message_in_english_when_the_round_comes_before_the_replier(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "I want to kill myself", labels=URGENT)
    await d.router.route_once()  # the hand-off before the replier's first pass
    assert d.given == [conv_id]
    texts = await d.replies(conv_id)
    assert len(texts) == 2 and "Yorisoi" in texts[0]  # the safety message first
    assert ON_CALL_EN in texts[1] and ON_CALL_JA not in texts[1]
    assert "closed" not in texts[1]


@pytest.mark.both_stores
async def test_with_nobody_on_call_an_urgent_message_at_night_gets_the_after_hours_reply(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.write(
        tokyo("2027-01-01 03:00"), "もう死にたい", labels=URGENT
    )  # nobody that day
    texts = await d.replies(conv_id)  # at once: no hand-off can come
    assert len(texts) == 2 and AFTER_HOURS_JA in texts[1]
    await d.router.route_once()
    assert d.given == [] and await d.replies(conv_id) == texts


@pytest.mark.both_stores
async def test_a_held_after_hours_reply_goes_out_when_a_counselor_on_duty_takes_it(
    store: Store,
) -> None:
    d = await desk(store)
    # sato works a night shift this Tuesday: she is on duty at 23:00 and takes it.
    tuesday = tokyo("2026-11-24 12:00").date()
    night = Shift(weekly=DAY_SHIFT.weekly, exceptions=((tuesday, ((time(18), time(0)),)),))
    change = CounselorUpdate(shift=night)
    await store.update_counselor(d.sato.id, change, actor_id=d.sato.id, now=d.now)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    assert len(await d.replies(conv_id)) == 1  # the safety message; after hours is held
    (assigned,) = await d.router.route_once()
    assert assigned.user_id == d.sato.id and d.given == []
    texts = await d.replies(conv_id)
    assert len(texts) == 2 and AFTER_HOURS_JA in texts[1]  # as before this feature


@pytest.mark.both_stores
async def test_a_held_after_hours_reply_is_not_held_for_ever(store: Store) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    await store.set_channel_paused(ChannelKind.LINE, True, actor_id=d.tanaka.id, now=d.now)
    assert len(await d.replies(conv_id)) == 1
    await d.router.route_once()
    assert d.given == [] and len(await d.replies(conv_id)) == 1  # the round did not see it
    d.now += timedelta(minutes=3)
    await d.router.route_once()
    texts = await d.replies(conv_id)
    assert len(texts) == 2 and AFTER_HOURS_JA in texts[1]


# --- review findings: the on-call reply survives a restart, follows what the router actually
# handed over, waits from the first round, and is in her language on any instance.


@pytest.mark.both_stores
async def test_a_restart_before_the_replier_s_pass_sends_the_on_call_text_not_after_hours(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    await d.router.route_once()  # handed to tanaka; the process stops before the replier's pass
    assert d.given == [conv_id]
    assert await d.restart() == 2  # the safety message and the on-call message
    texts = await d.replies(conv_id)
    assert len(texts) == 2 and "0120-279-338" in texts[0]
    assert ON_CALL_JA in texts[1] and "This is" not in texts[1]  # from her message: Japanese
    assert not any(AFTER_HOURS_JA in text for text in texts)
    assert await d.restart() == 0 and len(await d.replies(conv_id)) == 2  # once


@pytest.mark.both_stores
async def test_a_restart_during_the_hold_does_not_send_after_hours_at_once(store: Store) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    assert len(await d.replies(conv_id)) == 1  # the safety message; after hours is held
    assert await d.restart() == 0  # still held: someone is on call, no round has decided
    assert len(await d.replies(conv_id)) == 1
    await d.router.route_once()
    texts = await d.replies(conv_id)
    assert d.given == [conv_id] and len(texts) == 2 and ON_CALL_JA in texts[1]
    assert not any(AFTER_HOURS_JA in text for text in texts)


@pytest.mark.both_stores
async def test_a_conversation_someone_has_gets_no_after_hours_reply_at_restart(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "眠れません")  # not urgent
    await store.assign(conv_id, d.tanaka.id, actor_id=d.tanaka.id, now=d.now, capacity=None)
    assert await d.restart() == 0
    assert await d.replies(conv_id) == []
    other = await d.write(tokyo("2026-11-24 23:05"), "眠れません", sender="b")
    assert await d.restart() == 1  # nobody has this one: "we reply from 9:00" is due
    assert AFTER_HOURS_JA in (await d.replies(other))[0]


@pytest.mark.both_stores
async def test_a_failed_hand_off_releases_the_after_hours_reply_at_once(store: Store) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    assert len(await d.replies(conv_id)) == 1  # held: tanaka is on call
    # Her account is disabled after start (the rota was resolved then): the hand-off fails.
    await store.set_user_disabled("tanaka", True, now=d.now)
    await d.router.route_once()
    assert d.given == []
    texts = await d.replies(conv_id)  # the round saw it and did not hand it over: not held
    assert len(texts) == 2 and AFTER_HOURS_JA in texts[1]


@pytest.mark.both_stores
async def test_the_hold_is_measured_from_the_first_round_not_from_the_intake(
    store: Store,
) -> None:
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "もう死にたい", labels=URGENT)
    await store.set_channel_paused(ChannelKind.LINE, True, actor_id=d.tanaka.id, now=d.now)
    assert len(await d.replies(conv_id)) == 1
    d.now += timedelta(minutes=5)  # the router was slow to come round
    await d.router.route_once()  # the first round: it does not see her (LINE is paused)
    assert len(await d.replies(conv_id)) == 1  # still held: the hold starts now
    d.now += HOLD
    await d.router.route_once()
    texts = await d.replies(conv_id)
    assert len(texts) == 2 and AFTER_HOURS_JA in texts[1]


@pytest.mark.both_stores
async def test_the_instance_that_hands_over_sends_the_on_call_text_in_her_language(
    store: Store,
) -> None:
    """Two instances on one database: one stores her message, the other's router hands it to
    the person on call; the second has nothing of her in memory and still answers in English."""
    d = await desk(store)
    conv_id = await d.write(tokyo("2026-11-24 23:00"), "I want to kill myself", labels=URGENT)
    other = d.new_replier()  # the second instance: its replier and its router
    await d.new_router(other).route_once()
    assert d.given == [conv_id]
    assert await other.send_pending() == 1  # the on-call message
    (text,) = [
        m.body for m in await store.list_messages(conv_id) if m.direction is Direction.OUTBOUND
    ]
    assert ON_CALL_EN in text and ON_CALL_JA not in text
