"""The directory of partner agencies, written once for both stores: supervisors add, edit,
archive and import them (an agency is archived, never deleted: referrals to it stay counted).

Each change writes its event in its own transaction, with ids and kinds only (never a name,
contact or note: the event log is read more widely than the directory).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.agencies import (
    Agency,
    AgencyDraft,
    AgencyFilter,
    AgencyId,
    ImportAction,
    ImportResult,
    ImportRow,
)
from inbox.core.errors import DuplicateKey, NotFound
from inbox.core.model import UserId
from storage import events, rows
from storage.sql import Database, Tx

COLUMNS = "id, name, kind, area, contact, note, archived, created_at, updated_at"
LIST = f"""
SELECT {COLUMNS} FROM agencies
WHERE (CAST($1 AS boolean) IS NULL OR archived = $1)
  AND (CAST($2 AS text) IS NULL OR kind = $2)
  AND (CAST($3 AS text) IS NULL OR area = $3)
ORDER BY kind, area, name, id
"""
GET = f"SELECT {COLUMNS} FROM agencies WHERE id = $1"
BY_KEY = f"SELECT {COLUMNS} FROM agencies WHERE name = $1 AND area = $2"
INSERT = f"""
INSERT INTO agencies (name, kind, area, contact, note, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE agencies SET name = $2, kind = $3, area = $4, contact = $5, note = $6, updated_at = $7
WHERE id = $1
RETURNING {COLUMNS}
"""
SET_ARCHIVED = f"""
UPDATE agencies SET archived = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}
"""


def agency(row: rows.Row, parse: rows.TimeParser) -> Agency:
    """Columns: COLUMNS."""
    return Agency(
        id=AgencyId(row[0]),
        name=row[1],
        kind=row[2],
        area=row[3],
        contact=row[4],
        note=row[5],
        archived=bool(row[6]),
        created_at=parse(row[7]),
        updated_at=parse(row[8]),
    )


def _missing(agency_id: int) -> NotFound:
    return NotFound(f"agency {agency_id} does not exist")


def _taken(draft: AgencyDraft) -> DuplicateKey:
    where = f" in {draft.area!r}" if draft.area else " without an area"
    return DuplicateKey(
        f"an agency named {draft.name!r}{where} exists already; edit that one, or give another"
        " name or area",
        key="name",
    )


async def get_agency(tx: Tx, agency_id: int) -> Agency:
    row = await tx.fetchrow(GET, agency_id) if rows.id_fits(agency_id) else None
    if row is None:
        raise _missing(agency_id)
    return agency(row, tx.parse_time)


async def plan_import(tx: Tx, drafts: Sequence[tuple[int, AgencyDraft]]) -> list[ImportRow]:
    """What each (line, draft) would do to the directory as it stands."""
    planned: list[ImportRow] = []
    for line, draft in drafts:
        row = await tx.fetchrow(BY_KEY, draft.name, draft.area)
        if row is None:
            planned.append(ImportRow(line=line, draft=draft, action="add"))
            continue
        found = agency(row, tx.parse_time)
        action: ImportAction = "same" if found.draft() == draft else "update"
        planned.append(
            ImportRow(
                line=line, draft=draft, action=action, agency_id=found.id, archived=found.archived
            )
        )
    return planned


async def _import(
    tx: Tx, drafts: Sequence[tuple[int, AgencyDraft]], actor_id: UserId, now: datetime
) -> ImportResult:
    done: list[ImportRow] = []
    for planned in await plan_import(tx, drafts):
        d = planned.draft
        if planned.action == "add":
            row = await tx.fetchrow(INSERT, d.name, d.kind, d.area, d.contact, d.note, now)
            assert row is not None
            planned = ImportRow(
                line=planned.line, draft=d, action="add", agency_id=AgencyId(row[0])
            )
        elif planned.action == "update":
            await tx.execute(
                UPDATE, planned.agency_id, d.name, d.kind, d.area, d.contact, d.note, now
            )
        done.append(planned)
    result = ImportResult(rows=tuple(done), applied=True)
    await events.record(
        tx,
        "agencies_imported",
        now,
        actor_id=actor_id,
        data={
            "added": [r.agency_id for r in done if r.action == "add"],
            "updated": [r.agency_id for r in done if r.action == "update"],
            "unchanged": result.count("same"),
        },
    )
    return result


class Agencies:
    """The AgencyStore operations, the same on both stores, over the store's Database."""

    _db: Database

    async def list_agencies(self, which: AgencyFilter | None = None) -> list[Agency]:
        w = which or AgencyFilter()
        found = await self._db.read(lambda tx: tx.fetch(LIST, w.archived, w.kind, w.area))
        return [agency(r, self._db.parse_time) for r in found]

    async def get_agency(self, agency_id: AgencyId) -> Agency:
        return await self._db.read(lambda tx: get_agency(tx, agency_id))

    async def create_agency(self, draft: AgencyDraft, *, actor_id: UserId, now: datetime) -> Agency:
        d = draft

        async def op(tx: Tx) -> Agency:
            if await tx.fetchrow(BY_KEY, d.name, d.area) is not None:
                raise _taken(d)
            row = await tx.fetchrow(INSERT, d.name, d.kind, d.area, d.contact, d.note, now)
            assert row is not None
            made = agency(row, tx.parse_time)
            await events.record(
                tx,
                "agency_created",
                now,
                actor_id=actor_id,
                data={"agency_id": made.id, "kind": made.kind},
            )
            return made

        try:
            return await self._db.write(op)
        except DuplicateKey as exc:  # another writer took the key meanwhile
            raise _taken(d) from exc

    async def update_agency(
        self, agency_id: AgencyId, draft: AgencyDraft, *, actor_id: UserId, now: datetime
    ) -> Agency:
        d = draft

        async def op(tx: Tx) -> Agency:
            await get_agency(tx, agency_id)
            other = await tx.fetchrow(BY_KEY, d.name, d.area)
            if other is not None and other[0] != agency_id:
                raise _taken(d)
            row = await tx.fetchrow(
                UPDATE, agency_id, d.name, d.kind, d.area, d.contact, d.note, now
            )
            assert row is not None
            await events.record(
                tx,
                "agency_updated",
                now,
                actor_id=actor_id,
                data={"agency_id": agency_id, "kind": d.kind},
            )
            return agency(row, tx.parse_time)

        try:
            return await self._db.write(op)
        except DuplicateKey as exc:
            raise _taken(d) from exc

    async def set_agency_archived(
        self, agency_id: AgencyId, archived: bool, *, actor_id: UserId, now: datetime
    ) -> Agency:
        async def op(tx: Tx) -> Agency:
            found = await get_agency(tx, agency_id)
            if found.archived == archived:
                return found
            row = await tx.fetchrow(SET_ARCHIVED, agency_id, archived, now)
            assert row is not None
            await events.record(
                tx,
                "agency_archived" if archived else "agency_restored",
                now,
                actor_id=actor_id,
                data={"agency_id": agency_id},
            )
            return agency(row, tx.parse_time)

        return await self._db.write(op)

    async def preview_agency_import(
        self, drafts: Sequence[tuple[int, AgencyDraft]]
    ) -> ImportResult:
        planned = await self._db.snapshot(lambda tx: plan_import(tx, drafts))
        return ImportResult(rows=tuple(planned), applied=False)

    async def import_agencies(
        self, drafts: Sequence[tuple[int, AgencyDraft]], *, actor_id: UserId, now: datetime
    ) -> ImportResult:
        try:
            return await self._db.write(lambda tx: _import(tx, drafts, actor_id, now))
        except DuplicateKey as exc:  # another writer added one of them meanwhile: all or none
            raise DuplicateKey(
                "another change to the directory came in meanwhile; nothing was imported,"
                " import the file again",
                key="body",
            ) from exc
