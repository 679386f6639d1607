"""Staff commands on counselors and channels: her profile and presence, going off shift (draining
her work back to the queue), pausing and resuming a channel."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from inbox.commands.writes import Commands
from inbox.core.errors import Conflict, NotFound, StorageError
from inbox.core.model import (
    LOAD_STATUSES,
    ChannelKind,
    ConversationId,
    CounselorUpdate,
    Presence,
    User,
    UserId,
)

DRAIN_LIMIT = 1000  # far above any capacity (at most 50), so a drain takes all of her work


def handover_note(counselor: User) -> str:
    name = counselor.display_name
    return f"引き継ぎ：{name}さんが対応を終了しました / Handover: {name} went off shift"


@dataclass(frozen=True, slots=True)
class Updated:
    counselor: User
    at: datetime  # when it was written: her shift is judged at this time


@dataclass(frozen=True, slots=True)
class Drained:
    counselor: User
    at: datetime
    requeued: list[ConversationId] = field(default_factory=list)
    kept: list[ConversationId] = field(default_factory=list)
    failed: list[tuple[ConversationId, StorageError]] = field(default_factory=list)


class CounselorCommands(Commands):
    async def update(self, counselor: UserId, change: CounselorUpdate, *, actor: UserId) -> Updated:
        """Change her profile (presence, capacity, skills, shift, ...); a counselor_updated
        event names the fields. Raises NotFound, or Conflict for a user who is no counselor."""
        now = self._clock()
        async with self._committing() as commit:
            updated = await commit(
                self._store.update_counselor, counselor, change, actor_id=actor, now=now
            )
        return Updated(updated, now)

    async def drain(
        self,
        counselor: UserId,
        *,
        actor: UserId,
        presence: Presence,
        keep: bool,
        note: str | None,
    ) -> Drained:
        """Set her presence and, unless `keep`, put each of her open conversations back in the
        queue with the note (by default a handover note naming her). One closed meanwhile is
        reported as failed; the others are still requeued."""
        now = self._clock()
        async with self._committing() as commit:
            updated = await commit(
                self._store.update_counselor,
                counselor,
                CounselorUpdate(presence=presence),
                actor_id=actor,
                now=now,
            )
            open_ones = await self._store.list_conversations(
                statuses=LOAD_STATUSES, visible_to=counselor, limit=DRAIN_LIMIT
            )
            mine = [c.id for c in open_ones if c.assignee_id == counselor]
            drained = Drained(updated, now, kept=mine if keep else [])
            for conv_id in [] if keep else mine:
                try:
                    await commit(
                        self._store.requeue,
                        conv_id,
                        actor_id=actor,
                        now=self._clock(),
                        note=note or handover_note(updated),
                    )
                except (NotFound, Conflict) as exc:  # closed meanwhile
                    drained.failed.append((conv_id, exc))
                    continue
                drained.requeued.append(conv_id)
        return drained

    async def connected(self, user: UserId, *, lease_s: float) -> bool:
        """Her staff socket opened on this instance: hold her connection lease, and make her
        available again if a disconnect had set her away (True)."""
        now = self._clock()
        async with self._committing() as commit:
            return await commit.maybe(
                self._store.staff_connected, user, now=now, until=now + timedelta(seconds=lease_s)
            )

    async def seen(self, users: Collection[UserId], *, lease_s: float) -> None:
        """These staff members still have a socket here: extend their leases."""
        until = self._clock() + timedelta(seconds=lease_s)
        async with self._committing() as commit:
            await commit(self._store.staff_seen, sorted(users), until=until)

    async def away_disconnected(self) -> list[UserId]:
        """Set away the available counselors whose last socket closed longer ago than the grace
        period (their leases ran out), so that the router passes them by."""
        async with self._committing() as commit:
            return await commit.maybe(self._store.away_disconnected, now=self._clock())

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor: UserId
    ) -> None:
        """Paused, its messages are still taken in but not routed; on resume, what waited is
        routed."""
        async with self._committing() as commit:
            await commit(
                self._store.set_channel_paused, channel, paused, actor_id=actor, now=self._clock()
            )
