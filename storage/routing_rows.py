"""Routing rows to snapshot records, and the capacity check both stores apply under a lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from inbox.core.decisions import AgentLoad, Assign, WaitingConversation, takes_channel
from inbox.core.model import ChannelKind, ConversationId, CounselorUpdate, Presence, Shift, UserId
from inbox.core.shifts import parse_shift, shift_data
from storage.rows import Row, TimeParser, channel_capacity, json_value
from storage.sql import Dialects

LoadKey = tuple[int, str]  # (user id, channel)
# Every open conversation's load, by counselor and channel (channel_loads reads the rows): the
# routers' (storage/*/routing.py CHANNEL_LOADS) and the board's. On SQLite, every router round
# counts every load: the covering partial index makes that an index-only scan; left to itself
# the planner takes conversations_queue and sorts, three times slower.
LOADS = Dialects(
    postgres="""
SELECT assignee_id, channel, count(*) FROM conversations
WHERE status IN ('assigned', 'waiting') AND assignee_id IS NOT NULL
GROUP BY assignee_id, channel
""",
    sqlite="""
SELECT assignee_id, channel, count(*) FROM conversations INDEXED BY conversations_load_by_channel
WHERE status IN ('assigned', 'waiting')
GROUP BY assignee_id, channel
""",
)


_CHANNELS = {c.value: c for c in ChannelKind}
_NOBODY: frozenset[UserId] = frozenset()


def _list(value: Any) -> list[Any]:
    return list(json_value(value))


def _user_ids(value: Any) -> frozenset[UserId]:
    """A JSON array (SQLite) or a list (PostgreSQL) of user ids."""
    if not value or value == "[]":
        return _NOBODY
    return frozenset(UserId(u) for u in json_value(value))


def waiting_from_rows(found: Sequence[Row], parse: TimeParser) -> tuple[WaitingConversation, ...]:
    """Columns: id, channel, priority, queued_at, skill, team, language, declined_by,
    previous assignee, previous conversation's updated_at, callback_due_at, and her
    contacts.call_window (the queries read it for phone conversations only)."""
    # A whole queue page every round: a dict lookup instead of an enum call, and no JSON parse
    # of the usual empty declined_by, make this about three times cheaper.
    channel = _CHANNELS
    return tuple(
        WaitingConversation(
            id=ConversationId(r[0]),
            channel=channel[r[1]],
            priority=r[2],
            waiting_since=parse(r[3]),
            skill=r[4],
            team=r[5],
            language=r[6],
            declined_by=_user_ids(r[7]),
            previous_assignee=None if r[8] is None else UserId(r[8]),
            previous_at=None if r[9] is None else parse(r[9]),
            not_before=None if r[10] is None else parse(r[10]),
            call_window=r[11],
        )
        for r in found
    )


def channel_loads(found: Iterable[Row]) -> dict[LoadKey, int]:
    """Rows of (user id, channel, count) as a dict; rows without a user (a supervisor answered
    an unassigned conversation) load nobody."""
    return {(int(r[0]), str(r[1])): int(r[2]) for r in found if r[0] is not None}


def agents_from_rows(
    found: Sequence[Row], loads: dict[LoadKey, int], parse: TimeParser
) -> tuple[AgentLoad, ...]:
    """Columns: id, capacity, presence, shift, skills, languages, teams, channel_capacity,
    last_assigned_at, is_counselor, is_phone_staff; `loads` from CHANNEL_LOADS."""
    by_user: dict[int, list[tuple[ChannelKind, int]]] = {}
    for (user_id, channel), count in loads.items():
        by_user.setdefault(user_id, []).append((_CHANNELS[channel], count))
    agents = []
    for r in found:
        mine = tuple(sorted(by_user.get(int(r[0]), ())))
        shift, skills, languages, teams, per_channel = _profile(*map(_hashable, r[3:8]))
        agents.append(
            AgentLoad(
                user_id=UserId(r[0]),
                capacity=r[1],
                load=sum(n for _, n in mine),
                presence=_PRESENCE[r[2]],
                shift=shift,
                skills=skills,
                languages=languages,
                teams=teams,
                channel_capacity=per_channel,
                channel_load=mine,
                idle_since=None if r[8] is None else parse(r[8]),
                counselor=bool(r[9]),
                phone_staff=bool(r[10]),
            )
        )
    return tuple(agents)


_PRESENCE = {p.value: p for p in Presence}
Profile = tuple[
    Shift | None,
    frozenset[str],
    frozenset[str],
    frozenset[str],
    tuple[tuple[ChannelKind, int], ...],
]


def _hashable(value: Any) -> Any:
    # PostgreSQL's text[] columns arrive as lists; SQLite's JSON columns as text.
    return tuple(value) if isinstance(value, list) else value


@lru_cache(maxsize=1024)
def _profile(shift: Any, skills: Any, languages: Any, teams: Any, per_channel: Any) -> Profile:
    """A counselor's shift, skills, languages, teams and channel limits, parsed once per distinct
    value: every router round and every intake batch reads all counselors, and they rarely
    change. The parsed values are immutable, so sharing them is safe."""
    return (
        None if shift is None else parse_shift(json_value(shift), "users.shift"),
        frozenset(_list(skills)),
        frozenset(_list(languages)),
        frozenset(_list(teams)),
        channel_capacity(per_channel),
    )


Roles = tuple[bool, bool]  # users.is_counselor, users.is_phone_staff


def staff_roles(found: Iterable[Row]) -> dict[int, Roles]:
    """Rows of (user id, is_counselor, is_phone_staff) as a dict (both dialects' booleans)."""
    return {int(r[0]): (bool(r[1]), bool(r[2])) for r in found}


def fit_assignments(
    assigns: Sequence[Assign],
    *,
    queued: dict[int, str],
    available: dict[int, Roles],
    loads: dict[LoadKey, int],
) -> list[Assign]:
    """The assignments that still hold against the current state, counting each one taken:
    the conversation still queued (`queued`: its channel as stored), the counselor still
    available (`available`: her roles as stored) and allowed its channel (a phone conversation
    only phone staff, any other only counselors: the snapshot is not trusted for that either),
    and her total load and her load on the conversation's channel still below the limits the
    decision was made with."""
    applied: list[Assign] = []
    total: dict[int, int] = {}
    per_channel = dict(loads)
    for (user_id, _), n in loads.items():
        total[user_id] = total.get(user_id, 0) + n
    for a in assigns:
        channel = queued.get(a.conversation_id)
        roles = available.get(a.user_id)
        if channel is None or roles is None or not _takes(channel, roles):
            continue
        key = (a.user_id, channel)
        if total.get(a.user_id, 0) < a.capacity and (
            a.channel_capacity is None or per_channel.get(key, 0) < a.channel_capacity
        ):
            applied.append(a)
            total[a.user_id] = total.get(a.user_id, 0) + 1
            per_channel[key] = per_channel.get(key, 0) + 1
            del queued[a.conversation_id]
    return applied


def _takes(channel: str, roles: Roles) -> bool:
    counselor, phone_staff = roles
    return takes_channel(_CHANNELS[channel], counselor=counselor, phone_staff=phone_staff)


def counselor_columns(change: CounselorUpdate) -> list[tuple[str, Any]]:
    """(users column, value) for each field the change sets: lists for the string sets, dicts
    for the JSON columns, None to clear the shift; each store encodes them for its driver."""
    out: list[tuple[str, Any]] = []
    if change.presence is not None:
        out.append(("presence", change.presence.value))
        out.append(("presence_auto", False))  # her choice: a reconnect must not undo it
    if change.capacity is not None:
        out.append(("capacity", change.capacity))
    if change.channel_capacity is not None:
        out.append(("channel_capacity", {k.value: v for k, v in change.channel_capacity}))
    for name in ("skills", "languages", "teams"):
        value: frozenset[str] | None = getattr(change, name)
        if value is not None:
            out.append((name, sorted(value)))
    if change.shift is not None:
        out.append(("shift", shift_data(change.shift)))
    elif change.clear_shift:
        out.append(("shift", None))
    return out
