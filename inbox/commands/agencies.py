"""Staff commands on partner agencies and referrals: supervisors keep the directory (add, edit,
archive, import a CSV); counselors and phone staff record referrals on what they work on.

The input is read and checked here, for the API and any other caller alike; each error names
its field. Who may do what is decided before (inbox.web.agencies), on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from inbox.commands.agency_csv import agency_kind, clean, read_agencies_csv
from inbox.commands.signals import Listener
from inbox.commands.writes import Clock, Commands
from inbox.core.agencies import (
    MAX_AGENCY_NOTE_CHARS,
    MAX_AREA_CHARS,
    MAX_CONTACT_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERRAL_NOTE_CHARS,
    Agency,
    AgencyDraft,
    AgencyId,
    ImportResult,
    NewReferral,
    Referral,
    ReferralId,
)
from inbox.core.casework import AGENCY_KINDS, REFERRAL_KINDS, ids
from inbox.core.errors import PermissionDenied, TooLarge, ValidationError
from inbox.core.model import ConversationId, UserId
from routing.hours import TOKYO
from storage.base import Store

log = logging.getLogger(__name__)

DRAFT_FIELDS = ("name", "kind", "area", "contact", "note")
LIMITS = {
    "name": MAX_NAME_CHARS,
    "area": MAX_AREA_CHARS,
    "contact": MAX_CONTACT_CHARS,
    "note": MAX_AGENCY_NOTE_CHARS,
}
REFERRAL_FIELDS = frozenset({"agency_id", "kind", "on_day", "note"})
EARLIEST_DAY = date(2000, 1, 1)


def _string(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("a string (empty for none)", field=name)
    if len(value) > limit:
        raise TooLarge(f"at most {limit} characters, got {len(value)}", field=name)
    return value


def _unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ValidationError(
            f"unknown field; allowed: {', '.join(sorted(allowed))}", field=extra[0]
        )


def read_draft(data: Mapping[str, Any], base: AgencyDraft | None = None) -> AgencyDraft:
    """A whole draft (base None), or `base` with the fields given. The name is required; the
    kind is an id of inbox.core.casework.AGENCY_KINDS or either of its words."""
    _unknown(data, frozenset(DRAFT_FIELDS))
    found: dict[str, str] = {}
    for name in DRAFT_FIELDS:
        if base is not None and name not in data:
            found[name] = getattr(base, name)
            continue
        value = _string(data, name, LIMITS.get(name, 100))
        found[name] = value.strip() if name in ("contact", "note") else clean(value)
    if not found["name"]:
        raise ValidationError("required, a non-empty string", field="name")
    kind = agency_kind(found["kind"]) if found["kind"] else None
    if kind is None:
        raise ValidationError(
            f"required, one of {', '.join(k.id for k in AGENCY_KINDS)}", field="kind"
        )
    return AgencyDraft(
        name=found["name"],
        kind=kind,
        area=found["area"],
        contact=found["contact"],
        note=found["note"],
    )


class AgencyCommands(Commands):
    """The directory's writes and the referrals'. `timezone`: whose calendar a referral's day
    (and today, its default) is."""

    def __init__(
        self, store: Store, *, clock: Clock, signals: Listener, timezone: ZoneInfo = TOKYO
    ) -> None:
        super().__init__(store, clock=clock, signals=signals)
        self._tz = timezone

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def create(self, draft: AgencyDraft, *, actor: UserId) -> Agency:
        async with self._committing() as commit:
            return await commit(self._store.create_agency, draft, actor_id=actor, now=self._clock())

    async def update(self, agency_id: AgencyId, draft: AgencyDraft, *, actor: UserId) -> Agency:
        async with self._committing() as commit:
            return await commit(
                self._store.update_agency, agency_id, draft, actor_id=actor, now=self._clock()
            )

    async def set_archived(self, agency_id: AgencyId, archived: bool, *, actor: UserId) -> Agency:
        async with self._committing() as commit:
            return await commit.maybe(
                self._store.set_agency_archived,
                agency_id,
                archived,
                actor_id=actor,
                now=self._clock(),
            )

    async def import_csv(self, raw: bytes, *, actor: UserId, preview: bool) -> ImportResult:
        """Read the CSV (CsvProblem names a bad row and column; nothing is imported) and upsert
        its agencies on (name, area) in one transaction, or with `preview` say what it would
        do, writing nothing."""
        drafts = read_agencies_csv(raw)
        if preview:
            return await self._store.preview_agency_import(drafts)
        async with self._committing() as commit:
            result = await commit(
                self._store.import_agencies, drafts, actor_id=actor, now=self._clock()
            )
        log.info(
            "agencies imported",
            extra={
                "action": "agencies_imported",
                "added": result.count("add"),
                "updated": result.count("update"),
            },
        )
        return result

    def read_referral(
        self,
        data: Mapping[str, Any],
        *,
        staff: UserId,
        conversation_id: ConversationId | None = None,
        call_id: int | None = None,
    ) -> NewReferral:
        """`{"agency_id", "kind", "on_day"?, "note"?}`: the day is today (in the program's zone)
        when not given, and never after it."""
        _unknown(data, REFERRAL_FIELDS)
        agency_id = data.get("agency_id")
        if isinstance(agency_id, bool) or not isinstance(agency_id, int) or agency_id < 1:
            raise ValidationError("required, an agency id", field="agency_id")
        kind = data.get("kind")
        allowed = ids(REFERRAL_KINDS)
        if not isinstance(kind, str) or kind not in allowed:
            raise ValidationError(
                f"required, one of {', '.join(r.id for r in REFERRAL_KINDS)}", field="kind"
            )
        return NewReferral(
            agency_id=AgencyId(agency_id),
            kind=kind,
            on_day=self._day(data.get("on_day")),
            note=_string(data, "note", MAX_REFERRAL_NOTE_CHARS).strip(),
            staff_id=staff,
            conversation_id=conversation_id,
            call_id=call_id,
        )

    def _day(self, raw: object) -> date:
        today = self.today()
        if raw is None or raw == "":
            return today
        day = None
        if isinstance(raw, str) and len(raw) == 10:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                day = None
        if day is None or day < EARLIEST_DAY:
            raise ValidationError("a date as YYYY-MM-DD, or absent for today", field="on_day")
        if day > today:
            raise ValidationError(
                "not after today: record a referral once it is made", field="on_day"
            )
        return day

    async def record_referral(self, new: NewReferral) -> Referral:
        async with self._committing() as commit:
            made = await commit(self._store.record_referral, new, now=self._clock())
        log.info(
            "referral recorded",
            extra={
                "action": "referral_recorded",
                "referral_id": made.id,
                "conversation_id": made.conversation_id,
            },
        )
        return made

    async def delete_referral(
        self, referral_id: ReferralId, *, actor: UserId, any_staff: bool
    ) -> Referral:
        """Delete one recorded by mistake: hers, or anyone's for `any_staff` (a supervisor)."""
        found = await self._store.get_referral(referral_id)
        if not any_staff and found.staff_id != actor:
            raise PermissionDenied("only who recorded a referral, or a supervisor, can delete it")
        async with self._committing() as commit:
            return await commit(
                self._store.delete_referral, referral_id, actor_id=actor, now=self._clock()
            )
