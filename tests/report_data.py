"""A small desk whose report is known, written row by row with raw SQL (the casework records'
own write paths are other modules'): shared by the store contract of the report's facts, the
purge test, and the API's JSON and CSV tests.

Times are Tokyo wall times; the edges are the point: a conversation opened at 00:10 on 1 April
Tokyo time is 31 March in UTC, and counts in April.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from inbox.core.report_facts import TOTAL, FactsQuery
from storage.base import Store
from storage.sql import Tx

TOKYO = ZoneInfo("Asia/Tokyo")
PERIOD = FactsQuery(date(2025, 4, 1), date(2025, 5, 31))


def tokyo(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """A Tokyo wall time in 2025, as the UTC instant the stores keep."""
    return datetime(2025, month, day, hour, minute, second, tzinfo=TOKYO).astimezone(UTC)


EARLY = tokyo(1, 1)
# contact: age group (None: not told)
CONTACTS = {1: "20s", 2: None, 3: "30s", 4: "20s", 5: None, 6: "40s", 7: "50s"}
# id: contact, channel, opened, closed (None: still open)
CONVERSATIONS: dict[int, tuple[int, str, datetime, datetime | None]] = {
    1: (1, "webchat", tokyo(3, 31, 23, 30), tokyo(4, 3)),  # before the period
    2: (1, "line", tokyo(4, 1, 0, 10), tokyo(4, 5)),  # 31 March in UTC: April
    3: (2, "mail", tokyo(4, 30, 23, 59), tokyo(5, 2)),
    4: (2, "mail", tokyo(5, 1, 0, 0, 30), tokyo(5, 3)),  # 30 April in UTC: May
    5: (3, "sms", tokyo(5, 15), tokyo(5, 16)),
    6: (4, "phone", tokyo(5, 10), None),  # a callback request: never counted itself
    7: (5, "webchat", tokyo(6, 1, 0, 0), None),  # after the period
    8: (6, "webchat", tokyo(5, 31, 23, 59), None),
    # a follow-up's task (or one staff began) she never wrote in: no consultation, no consulter
    9: (7, "sms", tokyo(5, 20), tokyo(5, 21)),
}
# id: conversation, direction, written
MESSAGES: dict[int, tuple[int, str, datetime]] = {
    1: (1, "inbound", tokyo(3, 31, 23, 30)),
    2: (1, "inbound", tokyo(4, 2, 10)),
    3: (1, "inbound", tokyo(4, 2, 11)),  # the same day: one conversation-day
    4: (1, "outbound", tokyo(4, 2, 12)),
    5: (2, "inbound", tokyo(4, 1, 0, 10)),
    6: (2, "inbound", tokyo(4, 3)),
    7: (2, "outbound", tokyo(4, 4)),  # ours: no conversation-day
    8: (3, "inbound", tokyo(4, 30, 23, 59)),
    9: (3, "inbound", tokyo(5, 1, 0, 1)),
    10: (4, "inbound", tokyo(5, 1, 0, 0, 30)),
    11: (5, "inbound", tokyo(5, 15)),
    12: (6, "inbound", tokyo(5, 10)),
    13: (7, "inbound", tokyo(6, 1, 0, 0)),
    14: (8, "inbound", tokyo(5, 31, 23, 59)),
}
# id: contact (None: withheld), direction, started, outcome
CALLS: dict[int, tuple[int | None, str, datetime, str | None]] = {
    1: (4, "inbound", tokyo(4, 10), None),
    2: (None, "inbound", tokyo(5, 2), None),
    3: (3, "inbound", tokyo(3, 1), None),  # before the period
    4: (4, "outbound", tokyo(5, 10), "reached"),
    # a callback try nobody answered: no consultation (and contact 7 no consulter)
    5: (7, "outbound", tokyo(5, 11), "no_answer"),
}
# conversation, call, topic
TOPICS: list[tuple[int | None, int | None, str]] = [(1, None, "dv"), (2, None, "dv")]
TOPICS += [(2, None, "housing"), (3, None, "dv"), (None, 1, "poverty"), (None, 3, "work")]
AGENCIES = {1: "police", 2: "npo"}
# conversation, call, contact, agency, kind, day
REFERRALS = [
    (2, None, 1, 1, "information", "2025-04-05"),
    (3, None, 2, 2, "handover", "2025-04-30"),
    (None, 2, None, 1, "accompaniment", "2025-05-02"),
    (None, 1, 4, 2, "information", "2025-03-31"),
    (5, None, 3, 1, "information", "2025-06-01"),
]
# kind, day, people, new people
ACTIVITIES = [
    ("outreach", "2025-04-10", 5, 2),
    ("outreach", "2025-04-20", 3, 0),
    ("event", "2025-05-05", 20, 10),
    ("talk", "2025-06-01", 7, 7),
]
# channel, kind, at
CHANNEL_EVENTS = [
    ("line", "follow", tokyo(4, 1, 0, 30)),
    ("line", "follow", tokyo(5, 1)),
    ("line", "unfollow", tokyo(5, 20)),
    ("line", "unfollow", tokyo(6, 1, 0, 0)),
    ("line", "postback", tokyo(5, 3)),
]
SURVEY = [(1, "2025-04-02"), (1, "2025-04-03"), (2, "2025-05-01"), (4, "2025-05-02")]
SURVEY += [(3, "2025-06-01")]

# What the report counts of it, in each unit (inbox.core.report_facts keys).
EXPECTED_COMMON = {
    ("consultations.line", "2025-04"): 1,
    ("consultations.phone", "2025-04"): 1,
    ("consultations.phone", "2025-05"): 2,
    ("consultations.sms", "2025-05"): 1,
    ("consulters", "2025-04"): 3,
    ("consulters", "2025-05"): 4,
    ("consulters", TOTAL): 5,
    ("new_consulters", "2025-04"): 2,
    ("new_consulters", "2025-05"): 1,
    ("age.20s", TOTAL): 2,
    ("age.30s", TOTAL): 1,
    ("age.40s", TOTAL): 1,
    ("age.unknown", TOTAL): 1,
    ("topic.poverty", TOTAL): 1,
    ("referrals.information", "2025-04"): 1,
    ("referrals.handover", "2025-04"): 1,
    ("referrals.accompaniment", "2025-05"): 1,
    ("agency.police", TOTAL): 2,
    ("agency.npo", TOTAL): 1,
    ("activities.outreach", "2025-04"): 2,
    ("activities.event", "2025-05"): 1,
    ("activity_people", "2025-04"): 8,
    ("activity_people", "2025-05"): 20,
    ("activity_new_people", "2025-04"): 2,
    ("activity_new_people", "2025-05"): 10,
    ("line_friends_added", "2025-04"): 1,
    ("line_friends_added", "2025-05"): 1,
    ("line_friends_lost", "2025-05"): 1,
    ("survey.1", "2025-04"): 2,
    ("survey.2", "2025-05"): 1,
    ("survey.4", "2025-05"): 1,
}
EXPECTED_BY_CONVERSATION = EXPECTED_COMMON | {
    ("consultations.mail", "2025-04"): 1,
    ("consultations.mail", "2025-05"): 1,
    ("consultations.webchat", "2025-05"): 1,
    ("topic.dv", TOTAL): 2,
    ("topic.housing", TOTAL): 1,
}
EXPECTED_BY_DAY = EXPECTED_COMMON | {
    ("consultations.webchat", "2025-04"): 1,
    ("consultations.webchat", "2025-05"): 1,
    ("consultations.line", "2025-04"): 2,
    ("consultations.mail", "2025-04"): 1,
    ("consultations.mail", "2025-05"): 2,
    ("topic.dv", TOTAL): 5,
    ("topic.housing", TOTAL): 2,
}


CONVERSATION_COLUMNS = (
    "id", "contact_id", "identity_id", "channel", "status", "created_at", "updated_at",
    "queued_at", "closed_at", "last_inbound_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "conversation_id", "direction", "channel", "body", "delivery_status", "created_at",
    "attachments",
)  # fmt: skip


async def insert(store: Store, table: str, columns: Sequence[str], rows: list[Any]) -> None:
    """Rows written as they are, in one transaction (a test's own data)."""

    async def op(tx: Tx) -> None:
        await tx.insert_rows(table, columns, rows)

    await store._db.write(op)  # type: ignore[attr-defined]


async def build_desk(store: Store) -> None:
    """The desk above, in a migrated, empty store."""
    await insert(store, "contacts", ("id", "created_at", "age_group"), list(_contacts()))
    identities = {(c, ch) for c, ch, _, _ in CONVERSATIONS.values()}
    ident_ids = {key: n for n, key in enumerate(sorted(identities), start=1)}
    await insert(
        store,
        "channel_identities",
        ("id", "contact_id", "channel", "identity_hash", "address", "created_at"),
        [(n, c, ch, f"h{n}", "-", EARLY) for (c, ch), n in ident_ids.items()],
    )
    await insert(
        store,
        "conversations",
        CONVERSATION_COLUMNS,
        [
            (i, c, ident_ids[c, ch], ch, _status(closed), opened, opened, opened, closed, last)
            for i, (c, ch, opened, closed) in CONVERSATIONS.items()
            for last in [_last_inbound(i)]
        ],
    )
    await insert(
        store,
        "messages",
        MESSAGE_COLUMNS,
        [
            (i, conv, d, CONVERSATIONS[conv][1], f"本文{i}", "received", at, "[]")
            for i, (conv, d, at) in MESSAGES.items()
        ],
    )
    await insert(
        store,
        "calls",
        ("id", "contact_id", "direction", "started_at", "created_at", "updated_at", "outcome"),
        [(i, c, d, at, at, at, outcome) for i, (c, d, at, outcome) in CALLS.items()],
    )
    await insert(store, "consultation_topics", ("conversation_id", "call_id", "topic"), TOPICS)
    await insert(
        store,
        "agencies",
        ("id", "name", "kind", "created_at", "updated_at"),
        [(i, f"機関{i}", kind, EARLY, EARLY) for i, kind in AGENCIES.items()],
    )
    await insert(
        store,
        "referrals",
        ("conversation_id", "call_id", "contact_id", "agency_id", "kind", "on_day", "created_at"),
        [(*r, EARLY) for r in REFERRALS],
    )
    await insert(
        store,
        "activities",
        ("kind", "on_day", "people", "new_people", "created_at", "updated_at"),
        [(*a, EARLY, EARLY) for a in ACTIVITIES],
    )
    await insert(
        store,
        "channel_events",
        ("channel", "event_id", "kind", "at", "identity_hash"),
        [(ch, f"e{n}", kind, at, "h") for n, (ch, kind, at) in enumerate(CHANNEL_EVENTS)],
    )
    await insert(store, "survey_answers", ("channel", "answer", "on_day"), [
        ("webchat", answer, day) for answer, day in SURVEY
    ])  # fmt: skip


def _status(closed: datetime | None) -> str:
    return "queued" if closed is None else "closed"


def _last_inbound(conversation: int) -> datetime | None:
    """What the intake keeps on a conversation: when she last wrote in it (None: never)."""
    times = [at for conv, d, at in MESSAGES.values() if conv == conversation and d == "inbound"]
    return max(times, default=None)


def _contacts() -> list[tuple[int, datetime, str | None]]:
    return [(i, EARLY, age) for i, age in CONTACTS.items()]
