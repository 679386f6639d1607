"""Who is on shift: a counselor's weekly schedule and dated exceptions, read against the clock.

Pure. Shift data lives in inbox.model; windows follow routing.hours (an end of 00:00 is 24:00).
"""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from inbox.model import Shift, TimeWindow
from routing.hours import DAY_END


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def in_window(window: TimeWindow, local: time) -> bool:
    """Start inclusive, end exclusive; an end of 00:00 means the end of the day."""
    start, end = window
    return start <= local and (end == DAY_END or local < end)


def on_shift(shift: Shift | None, at: datetime) -> bool:
    """True when `at` (aware) falls in one of her windows for that local day."""
    if shift is None:
        return True
    local = at.astimezone(_zone(shift.tz))
    day = local.date()
    windows = next((w for d, w in shift.exceptions if d == day), None)
    if windows is None:
        windows = shift.weekly[local.weekday()]
    now = local.time()
    return any(in_window(w, now) for w in windows)
