"""A holiday closes a counselor's shift by default, over a real store: neither a router round nor
routing at intake offers her a conversation on 勤労感謝の日 (2026-11-23) or in the year-end
closure (12-30), and both do once her shift says she works closed days. The desk's closed days
come from the service hours of the enabled channels as the service builds them
(Config.closed_days): here mail alone, closed on holidays; the web chat is switched off (were it
on without hours, it would be open around the clock and no day closed). Her messages are
urgent, which routing takes on a closed channel too, so only her shift keeps one waiting."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from inbox.config import Config, RoutingConfig, WebchatConfig
from inbox.core.model import (
    ChannelKind,
    ClosedDays,
    ConversationStatus,
    CounselorUpdate,
    IntakeLabels,
    Shift,
    User,
)
from inbox.mail_config import MailConfig
from inbox.router import Router
from routing.assign import RoutingPolicy
from routing.hours import parse_service_hours
from storage.base import Store
from tests.factories import inbound, new_user

TOKYO = ZoneInfo("Asia/Tokyo")
# Mail opens on weekdays; holidays and 12-29..01-03 closed (the defaults).
CONFIG = Config(
    routing=RoutingConfig(
        hours=((ChannelKind.MAIL, parse_service_hours({"weekdays": ["09:00-18:00"]}, "h")),)
    ),
    mail=MailConfig(enabled=True),
    webchat=WebchatConfig(enabled=False),
)
URGENT = IntakeLabels(priority=100)
EVERY_DAY = Shift(weekly=(((time(9), time(18)),),) * 7)


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO).astimezone(UTC)


class Desk:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.now = tokyo("2026-11-01 00:00")
        self.router = Router(
            store,
            clock=lambda: self.now,
            hours_for=CONFIG.routing.hours_for,
            policy=RoutingPolicy(closed_days=CONFIG.closed_days),
        )

    async def counselor(self, shift: Shift) -> User:
        sato = await self.store.create_user(new_user("sato"), now=self.now)
        return await self.store.update_counselor(
            sato.id, CounselorUpdate(shift=shift), actor_id=sato.id, now=self.now
        )

    async def write(self, when: str, sender: str) -> tuple[int | None, bool]:
        """A consulter mails at `when`: (whom routing at intake gave it to, whether a router
        round then gave it to anyone)."""
        self.now = tokyo(when)
        item = inbound(sender, channel=ChannelKind.MAIL, received_at=self.now)
        item = dataclasses.replace(item, labels=URGENT)
        (answer,) = await self.store.save_inbound_batch([item], router=self.router)
        routed = await self.router.route_once()
        return answer.assigned_to, any(a.conversation_id == answer.conversation_id for a in routed)


@pytest.mark.both_stores
async def test_a_holiday_closes_a_counselors_shift_by_default(store: Store) -> None:
    desk = Desk(store)
    sato = await desk.counselor(EVERY_DAY)
    assert await desk.write("2026-11-23 10:00", "a@example.jp") == (None, False)  # 勤労感謝の日
    assert await desk.write("2026-12-30 10:00", "b@example.jp") == (None, False)  # year end
    waiting = await store.list_conversations(statuses=frozenset({ConversationStatus.QUEUED}))
    assert len(waiting) == 2 and all(c.assignee_id is None for c in waiting)
    # The next ordinary day her shift is on again: the router gives her what waited.
    desk.now = tokyo("2027-01-04 09:30")
    assert len(await desk.router.route_once()) == 2
    assert await desk.write("2027-01-04 10:00", "c@example.jp") == (sato.id, False)  # at intake


@pytest.mark.both_stores
async def test_a_counselor_who_works_closed_days_is_offered_work_on_them(store: Store) -> None:
    desk = Desk(store)
    works = Shift(weekly=EVERY_DAY.weekly, closed_days=ClosedDays.WORK)
    sato = await desk.counselor(works)
    # The override is stored with her shift and read back by the router's snapshot.
    (agent,) = (await store.routing_snapshot()).agents
    assert agent.shift is not None and agent.shift.closed_days is ClosedDays.WORK
    assert (await store.get_user(sato.id)).shift == works
    assert await desk.write("2026-11-23 10:00", "a@example.jp") == (sato.id, False)
    assert await desk.write("2026-12-30 10:00", "b@example.jp") == (sato.id, False)
    assert await desk.write("2026-12-30 19:00", "c@example.jp") == (None, False)  # after her hours
