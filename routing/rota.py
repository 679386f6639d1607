"""The on-call rota (当番表) and the escalation decision: who is on call at an instant, and which
waiting conversations go to her.

Pure: no I/O, no clock; the instant is an argument. The rota is weekly windows per person in the
program's time zone, with dated exceptions that replace the weekly rota for their whole day
(another person, or nobody: `who = ""`). The old `routing.on_call = "username"` reads as that
person on call at every hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from inbox.core.decisions import Decision, RoutingSnapshot, Wait
from inbox.core.errors import ConfigError
from inbox.core.model import ConversationId
from inbox.core.windows import (
    DAY_END,
    DAY_NAMES,
    Window,
    expect_list,
    parse_date,
    parse_windows,
    show_value,
    windows_problem,
)
from routing.assign import ALL_BUSY, NO_COUNSELOR, NO_ELIGIBLE

WHOLE_DAY: Window = (time(0), DAY_END)
_DAY_GROUPS: Mapping[str, tuple[int, ...]] = {
    "everyday": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
    **{name: (i,) for i, name in enumerate(DAY_NAMES)},
}


@dataclass(frozen=True, slots=True)
class Duty:
    who: str  # a username; "" = nobody on call in this window
    window: Window


@dataclass(frozen=True, slots=True, kw_only=True)
class OnCallRota:
    weekly: tuple[tuple[Duty, ...], ...] = ((),) * 7  # Monday first
    dated: tuple[tuple[date, tuple[Duty, ...]], ...] = ()  # each replaces its day's weekly rota

    @property
    def people(self) -> frozenset[str]:
        """Every username the rota names (to resolve at start-up)."""
        days = (*self.weekly, *(duties for _, duties in self.dated))
        return frozenset(d.who for duties in days for d in duties if d.who)

    def duties_on(self, day: date) -> tuple[Duty, ...]:
        return dict(self.dated).get(day, self.weekly[day.weekday()])


NO_ROTA = OnCallRota()


def always(username: str) -> OnCallRota:
    """The old single-username form: on call at every hour ("" = no one ever)."""
    if not username:
        return NO_ROTA
    return OnCallRota(weekly=((Duty(username, WHOLE_DAY),),) * 7)


def on_call_at(rota: OnCallRota, at: datetime, tz: ZoneInfo) -> str | None:
    """The username on call at `at` (aware), read on the wall clock of `tz`; None if nobody."""
    if at.tzinfo is None:
        raise ValueError("on_call_at needs an aware datetime")
    local = at.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    for duty in rota.duties_on(local.date()):
        start, end = duty.window
        if start <= t and (end == DAY_END or t < end):
            return duty.who or None
    return None


# --- the escalation decision --------------------------------------------------------------

# The router's Wait reasons that mean no counselor on duty (on shift, available, eligible and
# under capacity) can take the conversation now.
NOBODY_CAN_TAKE = frozenset({NO_COUNSELOR, NO_ELIGIBLE, ALL_BUSY})


def for_on_call(
    snapshot: RoutingSnapshot,
    decisions: Iterable[Decision],
    *,
    someone_on_call: bool,
    urgent_priority: int,
) -> list[ConversationId]:
    """The conversations to hand to the on-call person now: urgent ones (urgent triage, or
    raised by a breached response target) that no counselor on duty can take, and only while
    someone is on call (the rota's answer for now). A breach in office hours that a
    counselor on duty can take is hers; with no one on call it waits at the head of the queue."""
    if not someone_on_call:
        return []
    urgent = {w.id for w in snapshot.waiting if w.priority >= urgent_priority}
    return [
        d.conversation_id
        for d in decisions
        if isinstance(d, Wait) and d.reason in NOBODY_CAN_TAKE and d.conversation_id in urgent
    ]


# --- parsing routing.on_call ----------------------------------------------------------------

_WEEKLY_KEYS = ("who", "days", "windows")
_DATED_KEYS = ("date", "who", "windows")


def parse_rota(raw: object, where: str = "routing.on_call") -> OnCallRota:
    """routing.on_call: a username (always on call, the old form), or a table with `weekly`
    and `dates` lists. ConfigError names the key path and the fix."""
    if isinstance(raw, str):
        return always(raw.strip())
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f'{where}: expected a username like "tanaka" or a table with weekly and dates,'
            f" got {show_value(raw)}"
        )
    for key in raw:
        if key not in ("weekly", "dates"):
            raise ConfigError(f"{where}.{key}: unknown key; allowed: weekly, dates")
    weekly: list[list[Duty]] = [[] for _ in range(7)]
    for i, item in enumerate(expect_list(raw.get("weekly", []), f"{where}.weekly", "{...}")):
        path = f"{where}.weekly[{i}]"
        table = _table(item, path, _WEEKLY_KEYS)
        who = _who(table, path)
        windows = parse_windows(table.get("windows", ["00:00-24:00"]), f"{path}.windows")
        for weekday in _days(table.get("days", ["everyday"]), f"{path}.days"):
            weekly[weekday].extend(Duty(who, w) for w in windows)
    for weekday, duties in enumerate(weekly):
        _check_day(duties, f"{where}.weekly ({DAY_NAMES[weekday]})")
    dated: dict[date, list[Duty]] = {}
    for i, item in enumerate(expect_list(raw.get("dates", []), f"{where}.dates", "{...}")):
        path = f"{where}.dates[{i}]"
        table = _table(item, path, _DATED_KEYS)
        if "date" not in table:
            raise ConfigError(f"{path}.date: missing; write the day it applies to, e.g. 2026-12-31")
        day = parse_date(table["date"], f"{path}.date")
        who = _who(table, path)
        windows = parse_windows(table.get("windows", ["00:00-24:00"]), f"{path}.windows")
        dated.setdefault(day, []).extend(Duty(who, w) for w in windows)
    for day, duties in dated.items():
        _check_day(duties, f"{where}.dates ({day.isoformat()})")
    return OnCallRota(
        weekly=tuple(_sorted(d) for d in weekly),
        dated=tuple(sorted((day, _sorted(d)) for day, d in dated.items())),
    )


def _table(item: object, path: str, keys: Sequence[str]) -> Mapping[str, object]:
    if not isinstance(item, Mapping):
        raise ConfigError(
            f"{path}: expected a table with {', '.join(keys)}, got {show_value(item)}"
        )
    for key in item:
        if key not in keys:
            raise ConfigError(f"{path}.{key}: unknown key; allowed: {', '.join(keys)}")
    return item


def _who(table: Mapping[str, object], path: str) -> str:
    who = table.get("who")
    if not isinstance(who, str):
        raise ConfigError(
            f'{path}.who: expected a username, or "" for nobody on call, got {show_value(who)}'
        )
    return who.strip()


def _days(value: object, path: str) -> list[int]:
    names = ", ".join(_DAY_GROUPS)
    out: list[int] = []
    for i, name in enumerate(expect_list(value, path, '"weekdays"')):
        days = _DAY_GROUPS.get(name) if isinstance(name, str) else None
        if days is None:
            raise ConfigError(f"{path}[{i}]: {show_value(name)} is not a day; use one of {names}")
        out.extend(d for d in days if d not in out)
    return out


def _sorted(duties: Iterable[Duty]) -> tuple[Duty, ...]:
    return tuple(sorted(duties, key=lambda d: d.window))


def _check_day(duties: Iterable[Duty], path: str) -> None:
    """Two people on call in overlapping windows of one day is a mistake in the rota."""
    ordered = _sorted(duties)
    problem = windows_problem(tuple(d.window for d in ordered))
    if problem is not None:
        raise ConfigError(f"{path}: {problem}; one person is on call at a time")


__all__: Sequence[str] = (
    "NOBODY_CAN_TAKE",
    "NO_ROTA",
    "Duty",
    "OnCallRota",
    "always",
    "for_on_call",
    "on_call_at",
    "parse_rota",
)
