"""The Store contract for the queue's list (list_conversations): whoever asks (everyone, a
counselor, phone staff), whatever the statuses and the limit, the same conversations in the same
order as its rule says (most urgent, then longest queued, then id), on both stores. Since schema
17 the open queue is read through its own indexes and queries (storage.desk QUEUE_*): this
checks them against the rule computed here from every row."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import pytest

from inbox.core.model import ChannelKind, ConversationStatus, Role, UserId
from storage.base import Store
from storage.rows import format_text_time
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound, new_user

Q, A, W, C = (
    ConversationStatus.QUEUED,
    ConversationStatus.ASSIGNED,
    ConversationStatus.WAITING,
    ConversationStatus.CLOSED,
)
OPEN = (Q, A, W)
# Each conversation's status, assignee ("sato", "suzuki" or None), channel and priority; queued
# times tie in fours so that the id decides between them.
SHAPES = [
    (Q, None, "webchat"),
    (A, "sato", "webchat"),
    (W, "suzuki", "webchat"),
    (C, "sato", "webchat"),
    (Q, None, "phone"),
    (A, "sato", "phone"),
    (W, "sato", "mail"),
    (C, None, "phone"),
]


async def _desk(store: Store) -> tuple[dict[str, UserId], list[tuple[Any, ...]]]:
    staff = {
        name: (
            await store.create_user(new_user(name, roles=frozenset({Role.COUNSELOR})), now=at(0))
        ).id
        for name in ("sato", "suzuki")
    }
    await store.save_inbound_batch([inbound(f"c{i}@example.jp") for i in range(40)])
    for i in range(40):
        status, who, channel = SHAPES[i % len(SHAPES)]
        await store._db.write(  # type: ignore[attr-defined]
            lambda tx, i=i, status=status, who=who, channel=channel: tx.execute(
                "UPDATE conversations SET status = $1, assignee_id = $2, channel = $3,"
                " priority = $4, queued_at = $5 WHERE id = (SELECT min(id) FROM conversations)"
                " + $6",
                str(status),
                None if who is None else staff[who],
                channel,
                (i * 7) % 3,
                _time(store, at(1000 - i // 4)),
                i,
            )
        )
    found = await store._db.read(  # type: ignore[attr-defined]
        lambda tx: tx.fetch(
            "SELECT id, status, assignee_id, channel, priority, queued_at FROM conversations"
        )
    )
    return staff, [tuple(r) for r in found]


def _time(store: Store, value: datetime) -> Any:
    """A time as the store keeps it: SQLite as text."""
    return format_text_time(value) if isinstance(store, SqliteStore) else value


def _rule(
    rows: list[tuple[Any, ...]],
    statuses: Collection[ConversationStatus],
    visible_to: UserId | None,
    channels: Collection[ChannelKind] | None,
    limit: int,
) -> list[int]:
    kept = [
        r
        for r in rows
        if r[1] in {str(s) for s in statuses}
        and (visible_to is None or r[2] == visible_to or (r[2] is None and r[1] == "queued"))
        and (channels is None or r[3] in {str(c) for c in channels})
    ]
    kept.sort(key=lambda r: (-r[4], r[5], r[0]))
    return [r[0] for r in kept[:limit]]


@pytest.mark.parametrize("limit", [3, 7, 200])
@pytest.mark.parametrize("statuses", [OPEN, (Q,), (A, W), (Q, A, W, C), (C,)])
async def test_the_queue_lists_whom_each_sees_in_its_order(
    store: Store, statuses: tuple[ConversationStatus, ...], limit: int
) -> None:
    staff, rows = await _desk(store)
    asks: list[tuple[UserId | None, list[ChannelKind] | None]] = [
        (None, None),  # supervisors
        (staff["sato"], None),  # a counselor: hers and the unassigned queued
        (staff["suzuki"], None),
        (None, [ChannelKind.PHONE]),  # phone staff
        (None, [ChannelKind.PHONE, ChannelKind.MAIL]),
    ]
    for visible_to, channels in asks:
        listed = await store.list_conversations(
            statuses=statuses, visible_to=visible_to, channels=channels, limit=limit
        )
        expected = _rule(rows, statuses, visible_to, channels, limit)
        assert [c.id for c in listed] == expected, (visible_to, channels)
    assert any(_rule(rows, statuses, None, None, 200))  # the desk has some of each


@pytest.mark.parametrize("limit", [3, 7, 200])
@pytest.mark.parametrize("statuses", [OPEN, (Q,), (A, W)])
async def test_a_counselors_list_is_her_part_merged_with_the_unassigned_part(
    store: Store, statuses: tuple[ConversationStatus, ...], limit: int
) -> None:
    """queue_part: the two parts the web layer merges (the unassigned queued ones, kept once
    for every counselor's page, and hers), each in the queue's order with its order key; merged
    by that key, the same list as list_conversations gives her."""
    staff, rows = await _desk(store)
    shared, no_tasks = await store.queue_part(statuses=statuses, assignee=None, limit=limit)
    assert no_tasks == {}  # no follow-up is due on this desk (test_contract_follow_ups)
    assert [o for o, _ in shared] == sorted(o for o, _ in shared)
    assert all(c.assignee_id is None and c.status is Q for _, c in shared)
    for name in ("sato", "suzuki"):
        hers, _ = await store.queue_part(statuses=statuses, assignee=staff[name], limit=limit)
        assert [o for o, _ in hers] == sorted(o for o, _ in hers)
        assert all(c.assignee_id == staff[name] for _, c in hers)
        merged = [c.id for _, c in sorted(hers + shared, key=lambda p: p[0])][:limit]
        assert merged == _rule(rows, statuses, staff[name], None, limit), name
