"""Activities outside conversations (outreach, accompaniment, consultation events, drop-in place
visits, talks), written once for both stores: add, edit, delete, list by period. Each change
writes its event in the same transaction: the kind, the day and the counts, never the note."""

from __future__ import annotations

from datetime import date, datetime

from inbox.core.activity import Activity, ActivityDraft
from inbox.core.errors import NotFound, PermissionDenied
from inbox.core.model import UserId
from storage import events, rows
from storage.sql import Database, Tx

_COLUMNS = (
    "id, kind, on_day, place_kind, people, new_people, note, staff_id, created_at, updated_at"
)
INSERT = f"""
INSERT INTO activities (kind, on_day, place_kind, people, new_people, note, staff_id,
                        created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
RETURNING {_COLUMNS}
"""
# $9: only hers (NULL: a supervisor's edit, anyone's)
UPDATE = f"""
UPDATE activities SET kind = $2, on_day = $3, place_kind = $4, people = $5, new_people = $6,
                      note = $7, updated_at = $8
WHERE id = $1 AND (CAST($9 AS bigint) IS NULL OR staff_id = $9)
RETURNING {_COLUMNS}
"""
DELETE = """
DELETE FROM activities WHERE id = $1 AND (CAST($2 AS bigint) IS NULL OR staff_id = $2)
RETURNING kind, on_day
"""
EXISTS = "SELECT staff_id FROM activities WHERE id = $1"
GET = f"SELECT {_COLUMNS} FROM activities WHERE id = $1"
# days as text 'YYYY-MM-DD' compare in order
IN_PERIOD = f"""
SELECT {_COLUMNS} FROM activities WHERE on_day >= $1 AND on_day <= $2
ORDER BY on_day DESC, id DESC LIMIT $3
"""
# The period's totals by kind, counted here: the page lists at most a limit of them.
TOTALS = """
SELECT kind, count(*), coalesce(sum(people), 0), coalesce(sum(new_people), 0) FROM activities
WHERE on_day >= $1 AND on_day <= $2 GROUP BY kind
"""


def activity(row: rows.Row, parse: rows.TimeParser) -> Activity:
    return Activity(
        id=int(row[0]),
        draft=ActivityDraft(
            kind=row[1],
            day=date.fromisoformat(row[2]),
            place_kind=row[3],
            people=int(row[4]),
            new_people=int(row[5]),
            note=row[6],
        ),
        staff_id=None if row[7] is None else UserId(row[7]),
        created_at=parse(row[8]),
        updated_at=parse(row[9]),
    )


def _facts(d: ActivityDraft) -> dict[str, object]:
    """What an event says of an activity: no note, no place (free text)."""
    return {"kind": d.kind, "day": d.day.isoformat(), "people": d.people, "new": d.new_people}


def _args(d: ActivityDraft) -> tuple[object, ...]:
    return (d.kind, d.day.isoformat(), d.place_kind, d.people, d.new_people, d.note)


async def _refused(tx: Tx, activity_id: int) -> Exception:
    """Why an edit of hers matched nothing: no such activity, or another's."""
    if await tx.fetchrow(EXISTS, activity_id) is None:
        return NotFound(f"activity {activity_id} does not exist")
    return PermissionDenied("only the staff member who logged it or a supervisor")


async def add_activity(tx: Tx, draft: ActivityDraft, staff_id: UserId, now: datetime) -> Activity:
    row = await tx.fetchrow(INSERT, *_args(draft), staff_id, now)
    assert row is not None
    made = activity(row, tx.parse_time)
    await events.record(
        tx, "activity_logged", now, actor_id=staff_id, data={"id": made.id} | _facts(draft)
    )
    return made


async def update_activity(
    tx: Tx,
    activity_id: int,
    draft: ActivityDraft,
    actor_id: UserId,
    owner: UserId | None,
    now: datetime,
) -> Activity:
    row = await tx.fetchrow(UPDATE, activity_id, *_args(draft), now, owner)
    if row is None:
        raise await _refused(tx, activity_id)
    await events.record(
        tx, "activity_updated", now, actor_id=actor_id, data={"id": activity_id} | _facts(draft)
    )
    return activity(row, tx.parse_time)


async def delete_activity(
    tx: Tx, activity_id: int, actor_id: UserId, owner: UserId | None, now: datetime
) -> None:
    row = await tx.fetchrow(DELETE, activity_id, owner)
    if row is None:
        raise await _refused(tx, activity_id)
    await events.record(
        tx,
        "activity_deleted",
        now,
        actor_id=actor_id,
        data={"id": activity_id, "kind": row[0], "day": row[1]},
    )


class Activities:
    """The ActivityStore operations of both stores, over the store's Database."""

    _db: Database

    async def add_activity(
        self, draft: ActivityDraft, *, staff_id: UserId, now: datetime
    ) -> Activity:
        return await self._db.write(lambda tx: add_activity(tx, draft, staff_id, now))

    async def update_activity(
        self,
        activity_id: int,
        draft: ActivityDraft,
        *,
        actor_id: UserId,
        owner: UserId | None,
        now: datetime,
    ) -> Activity:
        return await self._db.write(
            lambda tx: update_activity(tx, activity_id, draft, actor_id, owner, now)
        )

    async def delete_activity(
        self, activity_id: int, *, actor_id: UserId, owner: UserId | None, now: datetime
    ) -> None:
        await self._db.write(lambda tx: delete_activity(tx, activity_id, actor_id, owner, now))

    async def get_activity(self, activity_id: int) -> Activity:
        row = await self._db.read(lambda tx: tx.fetchrow(GET, activity_id))
        if row is None:
            raise NotFound(f"activity {activity_id} does not exist")
        return activity(row, self._db.parse_time)

    async def activities_between(
        self, first: date, last: date, *, limit: int = 5000
    ) -> list[Activity]:
        found = await self._db.read(
            lambda tx: tx.fetch(IN_PERIOD, first.isoformat(), last.isoformat(), limit)
        )
        return [activity(r, self._db.parse_time) for r in found]

    async def activity_totals(self, first: date, last: date) -> dict[str, tuple[int, int, int]]:
        found = await self._db.read(
            lambda tx: tx.fetch(TOTALS, first.isoformat(), last.isoformat())
        )
        return {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in found}
