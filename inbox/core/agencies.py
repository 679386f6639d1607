"""Partner agencies and the referrals made to them (issue 17, casework): the records as the store
gives them and takes them. The words of their kinds are inbox.core.casework's.

Stdlib only. No consulter's text reaches an event: a referral's note is case text, read where
its conversation or call is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NewType

from inbox.core.model import ContactId, ConversationId, UserId

AgencyId = NewType("AgencyId", int)
ReferralId = NewType("ReferralId", int)

MAX_NAME_CHARS = 200
MAX_AREA_CHARS = 100
MAX_CONTACT_CHARS = 500
MAX_AGENCY_NOTE_CHARS = 2000
MAX_REFERRAL_NOTE_CHARS = 2000
MAX_IMPORT_ROWS = 2000  # far more than any program's directory; one transaction either way


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyDraft:
    """What a supervisor writes of an agency; (name, area) is its key, unique."""

    name: str
    kind: str  # inbox.core.casework.AGENCY_KINDS id
    area: str = ""
    contact: str = ""  # how staff reach them: number, address, person
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    id: AgencyId
    name: str
    kind: str
    area: str
    contact: str
    note: str
    archived: bool
    created_at: datetime
    updated_at: datetime

    def draft(self) -> AgencyDraft:
        return AgencyDraft(
            name=self.name, kind=self.kind, area=self.area, contact=self.contact, note=self.note
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyFilter:
    """Which agencies a list holds: active ones by default; every filter given must hold."""

    archived: bool | None = False  # None: both
    kind: str | None = None
    area: str | None = None


ImportAction = Literal["add", "update", "same"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRow:
    """One row of an import and what it does: adds an agency, updates the one of the same name
    and area (`agency_id`), or changes nothing."""

    line: int  # the row's number in the file (the header is row 1)
    draft: AgencyDraft
    action: ImportAction
    agency_id: AgencyId | None = None
    archived: bool = False  # the existing agency is archived (an import keeps it so)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    rows: tuple[ImportRow, ...]
    applied: bool  # False: a preview, nothing written

    def count(self, action: ImportAction) -> int:
        return sum(1 for r in self.rows if r.action == action)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewReferral:
    """A referral to record, on a conversation or on a call (exactly one is given)."""

    agency_id: AgencyId
    kind: str  # inbox.core.casework.REFERRAL_KINDS id
    on_day: date  # a Tokyo calendar day
    note: str = ""
    staff_id: UserId | None = None
    conversation_id: ConversationId | None = None
    call_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    id: ReferralId
    conversation_id: ConversationId | None
    call_id: int | None
    contact_id: ContactId | None  # None: a withheld call's
    agency_id: AgencyId
    agency_name: str
    agency_kind: str
    kind: str
    on_day: date
    note: str
    staff_id: UserId | None
    created_at: datetime
