"""Work outside conversations that the grant report counts (issue 17): outreach visits,
accompaniment, consultation events, drop-in place visits, talks. Stdlib only.

An activity is counted by its kind (inbox.core.casework.ACTIVITY_KINDS), its day in the program's
time zone, and the people met (new_people of them for the first time). The note is for staff: no
report shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from inbox.core.model import UserId

MAX_PLACE_CHARS = 40  # place_kind: a short word such as 公民館, 駅前, 学校 (free text)
MAX_NOTE_CHARS = 2000
MAX_PEOPLE = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityDraft:
    """What staff enter; checked before (the API names each field)."""

    kind: str
    day: date
    place_kind: str = ""
    people: int = 0
    new_people: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    id: int
    draft: ActivityDraft
    staff_id: UserId | None
    created_at: datetime
    updated_at: datetime
