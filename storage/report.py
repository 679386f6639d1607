"""The grant report's facts, counted in the database for a period, written once for both stores:
two statements in one consistent read, each grouped by Tokyo month in SQL, so that no row of a
conversation, a message or a referral ever reaches Python, only the counts
(inbox.core.report_facts holds the counting rules; inbox.core.report assembles the report).

Stored times are UTC (SQLite: fixed ISO text; PostgreSQL: timestamptz). A time's Tokyo month is
found by joining the period's months as UTC ranges (a VALUES list the statement is given, each
month an index range scan): no date function runs per row, which on SQLite cost more than the
rest of the counting (strftime parses each time's text). A Tokyo day (the conversation-day
unit) is `strftime(.., '+9 hours')` on SQLite and `AT TIME ZONE 'Asia/Tokyo'` on PostgreSQL.
Days of casework records (on_day) are Tokyo days already, as text: their month is their first
7 characters on both.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from inbox.core.report_facts import TOTAL, Facts, FactsQuery, Unit
from storage.sql import Database, Dialects, Tx


def _day(column: str, *, postgres: bool) -> str:
    if postgres:
        return f"to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD')"
    return f"strftime('%Y-%m-%d', substr({column}, 1, 19), '+9 hours')"


def _months(count: int, first: int, *, postgres: bool) -> str:
    """The months CTE from parameters $first, $first+1, ...: (month, lo, hi) per month."""
    rows = []
    for n in range(count):
        m, lo, hi = (f"${first + 3 * n + k}" for k in range(3))
        if postgres:
            lo, hi = f"CAST({lo} AS timestamptz)", f"CAST({hi} AS timestamptz)"
            m = f"CAST({m} AS text)"
        rows.append(f"({m}, {lo}, {hi})")
    return f"months(month, lo, hi) AS (VALUES {', '.join(rows)})"


# The period's consultations, one row each (contact_id NULL: a withheld call), in the unit asked.
# A conversation she never wrote in (a follow-up's task she did not answer, one staff began)
# is no consultation: last_inbound_at is set by the intake with her first message.
_OPENED = """
SELECT c.contact_id, c.channel, months.month AS m, c.id AS conversation_id,
       CAST(NULL AS bigint) AS call_id
FROM months JOIN conversations c ON c.created_at >= months.lo AND c.created_at < months.hi
WHERE c.channel <> 'phone' AND c.created_at < $2 AND c.last_inbound_at IS NOT NULL
"""
# A conversation-day: each Tokyo day she wrote in a conversation (a day, not a message).
_WROTE = """
SELECT c.contact_id, c.channel, substr(d.day, 1, 7) AS m, c.id AS conversation_id,
       CAST(NULL AS bigint) AS call_id
FROM (SELECT DISTINCT conversation_id, {day_created} AS day FROM messages
      WHERE direction = 'inbound' AND created_at >= $1 AND created_at < $2
        AND channel <> 'phone') d
JOIN conversations c ON c.id = d.conversation_id
"""
# A call: every inbound one; an outbound one (a callback try) only when it reached her.
_CALLS = """
SELECT l.contact_id, 'phone', months.month, CAST(NULL AS bigint), l.id
FROM months JOIN calls l ON l.started_at >= months.lo AND l.started_at < months.hi
WHERE l.direction = 'inbound' OR l.outcome IN ({reached})
"""
# Everything counted from the consultations, in one statement: by channel, the consulters by
# month and over the period, the new ones (no consultation before the period, $1) in the month
# of their first one, their age groups, and the consultations' topics. A conversation of hers
# from before the period has an id no greater than her first counted in it: the look-up walks
# only those (conversations_contact is on contact_id, id), not every one she ever had.
_PEOPLE = """
WITH {months},
k AS MATERIALIZED ({consultations} UNION ALL {calls}),
f AS MATERIALIZED (
    SELECT contact_id, min(m) AS first_month,
           coalesce(min(conversation_id), 9223372036854775807) AS first_id
    FROM k WHERE contact_id IS NOT NULL GROUP BY contact_id
)
SELECT 'consultations.' || channel, m, count(*) FROM k GROUP BY channel, m
UNION ALL
SELECT 'consulters', m, count(DISTINCT contact_id) FROM k GROUP BY m
UNION ALL
SELECT 'consulters', '', count(*) FROM f
UNION ALL
SELECT 'new_consulters', first_month, count(*) FROM f
WHERE NOT EXISTS (
    SELECT 1 FROM conversations c
    WHERE c.contact_id = f.contact_id AND c.id {earlier} f.first_id AND c.created_at < $1
      AND c.channel <> 'phone' AND c.last_inbound_at IS NOT NULL
) AND NOT EXISTS (
    SELECT 1 FROM calls l WHERE l.contact_id = f.contact_id AND l.started_at < $1
      AND (l.direction = 'inbound' OR l.outcome IN ({reached}))
)
GROUP BY first_month
UNION ALL
SELECT 'age.' || coalesce(p.age_group, 'unknown'), '', count(*)
FROM f JOIN contacts p ON p.id = f.contact_id GROUP BY p.age_group
UNION ALL
SELECT 'topic.' || t.topic, '', count(*)
FROM k JOIN consultation_topics t ON t.conversation_id = k.conversation_id
WHERE t.conversation_id IS NOT NULL GROUP BY t.topic
UNION ALL
SELECT 'topic.' || t.topic, '', count(*)
FROM k JOIN consultation_topics t ON t.call_id = k.call_id
WHERE t.call_id IS NOT NULL GROUP BY t.topic
"""
# $1, $2: the period's first and last Tokyo day ('YYYY-MM-DD'); the months from $3.
# The records counted by their day, and LINE's follows and unfollows by their Tokyo month.
_RECORDS = """
WITH {months}
SELECT 'referrals.' || kind, substr(on_day, 1, 7), count(*) FROM referrals
WHERE on_day >= $1 AND on_day <= $2 GROUP BY kind, substr(on_day, 1, 7)
UNION ALL
SELECT 'agency.' || a.kind, '', count(*) FROM referrals r JOIN agencies a ON a.id = r.agency_id
WHERE r.on_day >= $1 AND r.on_day <= $2 GROUP BY a.kind
UNION ALL
SELECT 'activities.' || kind, substr(on_day, 1, 7), count(*) FROM activities
WHERE on_day >= $1 AND on_day <= $2 GROUP BY kind, substr(on_day, 1, 7)
UNION ALL
SELECT 'activity_people', substr(on_day, 1, 7), sum(people) FROM activities
WHERE on_day >= $1 AND on_day <= $2 GROUP BY substr(on_day, 1, 7)
UNION ALL
SELECT 'activity_new_people', substr(on_day, 1, 7), sum(new_people) FROM activities
WHERE on_day >= $1 AND on_day <= $2 GROUP BY substr(on_day, 1, 7)
UNION ALL
SELECT CASE e.kind WHEN 'follow' THEN 'line_friends_added' ELSE 'line_friends_lost' END,
       months.month, count(*)
FROM months JOIN channel_events e ON e.at >= months.lo AND e.at < months.hi
WHERE e.channel = 'line' AND e.kind IN ('follow', 'unfollow')
GROUP BY e.kind, months.month
UNION ALL
SELECT 'survey.' || CAST(answer AS text), substr(on_day, 1, 7), sum(n) FROM survey_answers
WHERE on_day >= $1 AND on_day <= $2 GROUP BY answer, substr(on_day, 1, 7)
"""


@cache
def people_statement(unit: Unit, months: int, reached: int = 0) -> Dialects:
    """The people statement of `months` months: $1 and $2 the period's start and end (UTC), the
    months from $3, then the `reached` call outcomes."""
    after = 3 + 3 * months
    outcomes = ", ".join(f"${after + n}" for n in range(reached)) or "NULL"

    def text(postgres: bool) -> str:
        consultations = (_OPENED if unit == "conversation" else _WROTE).format(
            day_created=_day("created_at", postgres=postgres)
        )
        return _PEOPLE.format(
            months=_months(months, 3, postgres=postgres),
            consultations=consultations,
            calls=_CALLS.format(reached=outcomes),
            reached=outcomes,
            # by conversation, her first counted one opened in the period: only smaller ids
            # can be earlier; by day, it may itself have opened before
            earlier="<" if unit == "conversation" else "<=",
        )

    return Dialects(postgres=text(True), sqlite=text(False))


@cache
def records_statement(months: int) -> Dialects:
    return Dialects(
        postgres=_RECORDS.format(months=_months(months, 3, postgres=True)),
        sqlite=_RECORDS.format(months=_months(months, 3, postgres=False)),
    )


async def count_facts(tx: Tx, query: FactsQuery) -> Facts:
    """Every count the report needs for the period, by (key, month): inbox.core.report_facts."""
    bounds = query.month_bounds()
    months: list[Any] = [value for month in bounds for value in month]
    people = await tx.fetch(
        people_statement(query.unit, len(bounds), len(query.reached)),
        query.start,
        query.end,
        *months,
        *query.reached,
    )
    records = await tx.fetch(
        records_statement(len(bounds)), query.first.isoformat(), query.last.isoformat(), *months
    )
    facts: dict[tuple[str, str], int] = {}
    for rows in (people, records):
        for key, month, n in rows:
            if n:
                k = (str(key), str(month or TOTAL))
                facts[k] = facts.get(k, 0) + int(n)
    return facts


class Report:
    """The ReportStore operations of both stores, over the store's Database."""

    _db: Database

    async def report_facts(self, query: FactsQuery) -> Facts:
        return await self._db.snapshot(lambda tx: count_facts(tx, query))
