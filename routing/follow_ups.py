"""When a follow-up (近況確認) becomes a task in the queue: on its day in the program's zone,
from the moment the desk's hours for her channel open that day (the next opening when the desk
is closed all that day: a holiday, a closure). On the phone her call window counts too (the
desk calls her back only within both, as routing.callbacks.within_hours has it).

Pure: no I/O, no clock; `now` is an argument, aware datetimes only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from inbox.core.follow_ups import ScheduledFollowUp
from inbox.core.model import ChannelKind
from routing.callbacks import stored_window, within_hours
from routing.hours import TOKYO, ServiceHours, next_opening

HoursFor = Callable[[ChannelKind], ServiceHours]


def day_start(day: date, tz: ZoneInfo = TOKYO) -> datetime:
    """Midnight beginning `day` in `tz`, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def due_at(f: ScheduledFollowUp, hours_for: HoursFor, tz: ZoneInfo = TOKYO) -> datetime:
    """The moment `f` enters the queue: the first open moment of her channel's hours (on the
    phone, within her call window too) from the start of its day. A channel whose hours never
    open again gives the start of its day: the task is queued and waits there as any
    conversation outside hours does (the router's OUTSIDE_HOURS), never lost."""
    start = day_start(f.due_on, tz)
    hours = hours_for(f.channel)
    if f.channel is ChannelKind.PHONE and f.call_window is not None:
        window = stored_window(f.call_window, tz)
        both = None if window is None else within_hours(window, hours)
        if both is not None and next_opening(both, start) is not None:
            hours = both
    found = next_opening(hours, start)
    return start if found is None else found


def due_now(
    scheduled: Iterable[ScheduledFollowUp], now: datetime, hours_for: HoursFor, tz: ZoneInfo = TOKYO
) -> tuple[list[int], datetime | None]:
    """The ids of those due at `now`, and the earliest later moment one of the others is: when
    to look again (None: none of them)."""
    due: list[int] = []
    later: datetime | None = None
    for f in scheduled:
        at = due_at(f, hours_for, tz)
        if at <= now:
            due.append(f.id)
        elif later is None or at < later:
            later = at
    return due, later


def next_day_start(now: datetime, tz: ZoneInfo = TOKYO) -> datetime:
    """The next midnight in `tz` after `now`: tomorrow's follow-ups may be due from then."""
    return day_start(now.astimezone(tz).date() + timedelta(days=1), tz)
