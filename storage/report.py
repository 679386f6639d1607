"""The grant report's facts, counted in the database for a period, written once for both stores:
two statements in one consistent read, each grouped by Tokyo month in SQL, so that no row of a
conversation, a message or a referral ever reaches Python, only the counts
(inbox.core.report_facts holds the counting rules; inbox.core.report assembles the report).

Stored times are UTC (SQLite: fixed ISO text, so its first 19 characters are the UTC second;
PostgreSQL: timestamptz): a Tokyo month is `strftime(.., '+9 hours')` on SQLite and
`AT TIME ZONE 'Asia/Tokyo'` on PostgreSQL. Days of casework records (on_day) are Tokyo days
already, as text: their month is their first 7 characters on both.
"""

from __future__ import annotations

from inbox.core.report_facts import TOTAL, Facts, FactsQuery, Unit
from storage.sql import Database, Dialects, Tx


def _month(column: str, *, postgres: bool) -> str:
    if postgres:
        return f"to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM')"
    return f"strftime('%Y-%m', substr({column}, 1, 19), '+9 hours')"


def _day(column: str, *, postgres: bool) -> str:
    if postgres:
        return f"to_char({column} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD')"
    return f"strftime('%Y-%m-%d', substr({column}, 1, 19), '+9 hours')"


# The period's consultations ($1, $2: its start and end, UTC): one row each (contact_id NULL: a
# withheld call), in the unit asked.
_OPENED = """
SELECT contact_id, channel, {month_created} AS m, id AS conversation_id,
       CAST(NULL AS bigint) AS call_id
FROM conversations WHERE created_at >= $1 AND created_at < $2 AND channel <> 'phone'
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
_CALLS = """
SELECT contact_id, 'phone', {month_started} AS m, CAST(NULL AS bigint), id
FROM calls WHERE started_at >= $1 AND started_at < $2
"""
# Everything counted from the consultations, in one statement: by channel, the consulters by
# month and over the period, the new ones (no consultation before the period) in the month of
# their first one, their age groups, and the consultations' topics.
_PEOPLE = """
WITH k AS MATERIALIZED ({consultations} UNION ALL {calls}),
f AS MATERIALIZED (
    SELECT contact_id, min(m) AS first_month FROM k WHERE contact_id IS NOT NULL
    GROUP BY contact_id
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
    WHERE c.contact_id = f.contact_id AND c.created_at < $1 AND c.channel <> 'phone'
) AND NOT EXISTS (SELECT 1 FROM calls l WHERE l.contact_id = f.contact_id AND l.started_at < $1)
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
# $1, $2: the period's first and last Tokyo day ('YYYY-MM-DD'); $3, $4: its start and end (UTC).
# The records counted by their day, and LINE's follows and unfollows by their Tokyo day.
_RECORDS = """
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
SELECT CASE kind WHEN 'follow' THEN 'line_friends_added' ELSE 'line_friends_lost' END,
       {month_at}, count(*) FROM channel_events
WHERE channel = 'line' AND kind IN ('follow', 'unfollow') AND at >= $3 AND at < $4
GROUP BY kind, {month_at}
UNION ALL
SELECT 'survey.' || CAST(answer AS text), substr(on_day, 1, 7), count(*) FROM survey_answers
WHERE on_day >= $1 AND on_day <= $2 GROUP BY answer, substr(on_day, 1, 7)
"""


def _people(unit: Unit, *, postgres: bool) -> str:
    consultations = (_OPENED if unit == "conversation" else _WROTE).format(
        month_created=_month("created_at", postgres=postgres),
        day_created=_day("created_at", postgres=postgres),
    )
    calls = _CALLS.format(month_started=_month("started_at", postgres=postgres))
    return _PEOPLE.format(consultations=consultations, calls=calls)


PEOPLE: dict[Unit, Dialects] = {
    unit: Dialects(postgres=_people(unit, postgres=True), sqlite=_people(unit, postgres=False))
    for unit in ("conversation", "conversation_day")
}
RECORDS = Dialects(
    postgres=_RECORDS.format(month_at=_month("at", postgres=True)),
    sqlite=_RECORDS.format(month_at=_month("at", postgres=False)),
)


async def count_facts(tx: Tx, query: FactsQuery) -> Facts:
    """Every count the report needs for the period, by (key, month): inbox.core.report_facts."""
    first, last = query.first.isoformat(), query.last.isoformat()
    facts: dict[tuple[str, str], int] = {}
    people = await tx.fetch(PEOPLE[query.unit], query.start, query.end)
    for rows in (people, await tx.fetch(RECORDS, first, last, query.start, query.end)):
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
