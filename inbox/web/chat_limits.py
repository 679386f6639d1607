"""Per-session limits of the consulter's chat socket: frames per minute and messages stored per
day. Counted in memory per process, by session key (so a new socket does not reset them): the
limits keep one session from filling the database or the intake, not the count exact across
instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

SWEEP_AT = 1000  # from this many entries on, stale ones are dropped, at most once a minute
# The last messages stored per session: a resend of one of them (her page lost the ack) is a
# duplicate the intake answers with the stored id, not a new message over the daily limit.
RECENT = 5


@dataclass(slots=True)
class _Usage:
    minute: int  # minutes since the epoch of the current window
    frames: int
    day: date  # UTC
    stored: int
    recent: list[str] = field(default_factory=list)  # client ids, at most RECENT


class SessionLimits:
    def __init__(self, *, frames_per_minute: int, messages_per_day: int) -> None:
        self._frames_per_minute = frames_per_minute
        self._messages_per_day = messages_per_day
        self._usage: dict[str, _Usage] = {}
        self._swept_minute = 0

    def take_frame(self, key: str, now: datetime) -> bool:
        """Count one frame; False (and not counted) when the session is over its rate."""
        usage = self._current(key, now)
        if usage.frames >= self._frames_per_minute:
            return False
        usage.frames += 1
        return True

    def may_store(self, key: str, now: datetime, client_id: str | None = None) -> bool:
        """Whether one more message may be stored today; always for a resend of a recent
        one, which the intake recognizes as stored already."""
        usage = self._current(key, now)
        return usage.stored < self._messages_per_day or client_id in usage.recent

    def stored(self, key: str, now: datetime, client_id: str | None = None) -> None:
        usage = self._current(key, now)
        usage.stored += 1
        if client_id is not None:
            usage.recent = [*usage.recent[-(RECENT - 1) :], client_id]

    def __len__(self) -> int:
        return len(self._usage)

    def _current(self, key: str, now: datetime) -> _Usage:
        minute, day = int(now.timestamp() // 60), now.date()
        usage = self._usage.get(key)
        if usage is None:
            self._sweep(minute, day)
            usage = self._usage[key] = _Usage(minute=minute, frames=0, day=day, stored=0)
        if usage.minute != minute:
            usage.minute, usage.frames = minute, 0
        if usage.day != day:
            usage.day, usage.stored = day, 0
        return usage

    def _sweep(self, minute: int, day: date) -> None:
        if len(self._usage) < SWEEP_AT or minute == self._swept_minute:
            return
        self._swept_minute = minute
        # An entry matters while its minute runs, or for the day once it has stored a message;
        # the rest (a fresh token per socket, say) would only pile up.
        self._usage = {
            k: u
            for k, u in self._usage.items()
            if u.minute == minute or (u.day == day and u.stored > 0)
        }
