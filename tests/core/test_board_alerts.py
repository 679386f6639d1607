"""The alerts the board shows (inbox.core.board.ALERT_KINDS) as the services write them: an urgent
conversation handed to the on-call supervisor is an on_call_assigned alert naming her; a breach
with someone on duty is a deadline_breached alert and no hand-off. And the pure arithmetic of
the board: today's start in Asia/Tokyo (and a calendar day's, as the audit log takes it),
percentiles."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inbox.core.board import alert_kind, percentile
from inbox.core.windows import day_start
from routing.hours import TOKYO
from storage.base import Store
from tests.core.test_escalation import desk, tokyo


async def alert_kinds(store: Store, now: datetime) -> list[tuple[str, dict[str, object]]]:
    rows = await store.board_rows(day_start=day_start(now, TOKYO), now=now)
    return [(a.event.kind, a.event.data) for a in rows.alerts]


@pytest.mark.both_stores
async def test_an_on_call_hand_off_is_an_alert_that_names_her(store: Store) -> None:
    d = await desk(store)
    conv_id = await d.breach(tokyo("2026-11-24 23:00"))  # sato's shift ended at 18:00
    assert d.given == [conv_id]
    kinds = await alert_kinds(store, d.now)
    assert [k for k, _ in kinds].count("deadline_breached") == 1
    (hand_off,) = [data for k, data in kinds if k == "conversation_assigned"]
    assert (hand_off["user_id"], hand_off["via"]) == (d.tanaka.id, "on_call")
    assert alert_kind("conversation_assigned", hand_off) == "on_call_assigned"
    alert_id = next(
        e.id for e in await store.list_events(limit=10_000) if e.data.get("via") == "on_call"
    )
    ack = await store.acknowledge_alert(alert_id, actor_id=d.tanaka.id, now=d.now)
    assert ack.event_id == alert_id
    acked = [e for e in await store.list_events(limit=10_000) if e.kind == "alert_acknowledged"]
    assert [e.data for e in acked] == [{"event_id": alert_id, "kind": "on_call_assigned"}]


async def test_a_breach_in_office_hours_is_no_hand_off(store: Store) -> None:
    d = await desk(store, sato_capacity=2)
    await d.breach(tokyo("2026-11-24 11:00"))  # sato is on duty and has room
    assert "conversation_assigned" not in [k for k, _ in await alert_kinds(store, d.now)]


def test_the_day_begins_at_midnight_in_tokyo() -> None:
    late = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)  # 00:30 on the 7th in Tokyo
    assert day_start(late, TOKYO) == datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    early = datetime(2026, 12, 6, 14, 30, tzinfo=UTC)  # 23:30 on the 6th
    assert day_start(early, TOKYO) == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    assert day_start(date(2026, 12, 7), TOKYO) == day_start(late, TOKYO)  # one function


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.0),
        ([float(n) for n in range(1, 11)], 0.9, 9.0),
        ([float(n) for n in range(1, 11)], 1.0, 10.0),
    ],
)
def test_percentiles_are_nearest_rank(
    values: list[float], fraction: float, expected: float | None
) -> None:
    assert percentile(values, fraction) == expected
