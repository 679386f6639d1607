"""Staff commands on conversations: open an offer, reply, note, assign, close, move many, a
consulter's wishes (discretion, anonymity) and the audit records of what staff were shown.

Who may do what is checked before (inbox.web.access); each command writes through the store and
wakes whoever its events concern (inbox.commands.writes).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox.commands.signals import Listener
from inbox.commands.writes import Clock, Commands
from inbox.core.audit import READ_COALESCE, RecentReads
from inbox.core.errors import Conflict, NotFound, StorageError
from inbox.core.model import (
    Anonymity,
    ContactId,
    Conversation,
    ConversationId,
    Message,
    MessageId,
    Role,
    User,
    UserId,
)
from inbox.survey import SurveyDesk
from storage.base import Store


@dataclass(frozen=True, slots=True)
class Moved:
    """What a move did: the ids that moved, and each that could not with the store's refusal."""

    moved: list[ConversationId] = field(default_factory=list)
    failed: list[tuple[ConversationId, StorageError]] = field(default_factory=list)


class ConversationCommands(Commands):
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        signals: Listener,
        surveys: SurveyDesk | None = None,
    ) -> None:
        super().__init__(store, clock=clock, signals=signals)
        self._reads = RecentReads()  # her reads recorded here lately (record_read)
        self._surveys = surveys  # [survey]: asked when a counselor closes (None: never)

    async def open_offer(self, conversation_id: ConversationId, user_id: UserId) -> datetime | None:
        """Her offer is seen, so the router's offer timeout must not take it back: the time it
        was marked opened, or None when it was not hers to open or was open already."""
        now = self._clock()
        async with self._committing() as commit:
            opened = await commit(self._store.mark_opened, conversation_id, user_id, now=now)
        return now if opened else None

    async def reply(
        self,
        conversation_id: ConversationId,
        author: UserId,
        body: str,
        *,
        seen_up_to: MessageId | None = None,
    ) -> Message:
        """Queue her reply. With `seen_up_to` (the last message she saw), raises ReplyCollision
        and sends nothing when another staff member replied after it (no double replies)."""
        async with self._committing() as commit:
            return await commit(
                self._store.add_reply,
                conversation_id,
                author_id=author,
                body=body,
                now=self._clock(),
                seen_up_to=seen_up_to,
            )

    async def note(self, conversation_id: ConversationId, author: UserId, body: str) -> Message:
        async with self._committing() as commit:
            return await commit(
                self._store.add_note,
                conversation_id,
                author_id=author,
                body=body,
                now=self._clock(),
            )

    async def assign(
        self,
        conversation_id: ConversationId,
        to: UserId,
        *,
        actor: UserId,
        capacity: int | None,
        unclaimed: bool = False,
    ) -> Conversation:
        """Give it to `to`; with a capacity only while she has room (she claims it herself),
        without one whatever her load (a supervisor's decision); `unclaimed`: only if it is
        nobody's or hers (Store.assign)."""
        async with self._committing() as commit:
            return await commit(
                self._store.assign,
                conversation_id,
                to,
                actor_id=actor,
                now=self._clock(),
                capacity=capacity,
                unclaimed=unclaimed,
            )

    async def close(
        self,
        conversation_id: ConversationId,
        *,
        actor: UserId,
        outcome: str | None = None,
        note: str | None = None,
    ) -> Conversation:
        """Close it with how it ended (an id of inbox.outcomes, checked by the caller: the
        console requires one) and her optional note; then the satisfaction survey goes out on
        her channel where [survey] asks it (inbox.survey; the store checks her discretion and
        opt-out)."""
        async with self._committing() as commit:
            closed = await commit(
                self._store.close,
                conversation_id,
                actor_id=actor,
                now=self._clock(),
                outcome=outcome,
                note=note,
            )
            surveys = self._surveys
            # never about a consultation she did not write in (a follow-up's task she did not
            # answer, a conversation staff began): nothing to rate, and a message she did not
            # expect
            wrote = closed.last_inbound_at is not None
            if surveys is not None and wrote and surveys.asks(closed.channel, outcome):
                await commit.maybe(
                    self._store.ask_survey,
                    closed.id,
                    bodies=surveys.bodies(closed.channel),
                    token_hash=surveys.stored_hash(closed.channel, closed.id),
                    now=self._clock(),
                    when_discreet=surveys.cfg.when_discreet,
                    expired_before=surveys.expired_before(self._clock()),
                )
            return closed

    async def move(
        self,
        conversation_ids: Sequence[ConversationId],
        to: UserId,
        *,
        actor: UserId,
        note: str | None,
    ) -> Moved:
        """Give each open conversation to one counselor, whatever her load, with the note if
        given; an id that cannot move is reported, the others still move. Raises Conflict for
        anyone who cannot take conversations: unknown, disabled or not a counselor."""
        await self._enabled_counselor(to)
        result = Moved()
        async with self._committing() as commit:
            for conv_id in conversation_ids:
                now = self._clock()
                try:
                    await commit(
                        self._store.assign, conv_id, to, actor_id=actor, now=now, capacity=None
                    )
                except (NotFound, Conflict) as exc:
                    result.failed.append((conv_id, exc))
                    continue
                if note is not None:
                    await commit(self._store.add_note, conv_id, author_id=actor, body=note, now=now)
                result.moved.append(conv_id)
        return result

    async def _enabled_counselor(self, user_id: UserId) -> User:
        try:
            user = await self._store.get_user(user_id)
        except NotFound:
            raise Conflict(f"user {user_id} does not exist, so cannot take conversations") from None
        # Phone staff take callbacks; which conversation goes to whom the store decides by its
        # channel (storage.desk: a phone conversation only to phone staff, others to counselors).
        if user.disabled or not user.has_any(Role.COUNSELOR, Role.PHONE_STAFF):
            raise Conflict(f"user {user_id} is not an enabled counselor or phone staff")
        return user

    async def set_tags(
        self,
        conversation_id: ConversationId,
        tags: Sequence[str],
        *,
        keep: Collection[str],
        named: Collection[str] = (),
        actor: UserId,
    ) -> Conversation:
        """Her tags become those of `keep` it has (triage's labels) and `tags`, cleaned before
        (inbox.core.tags.TagBook.normalize); the event names those of `named`, counts the rest."""
        async with self._committing() as commit:
            return await commit(
                self._store.set_tags,
                conversation_id,
                tags,
                keep=keep,
                named=named,
                actor_id=actor,
                now=self._clock(),
            )

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor: UserId
    ) -> None:
        async with self._committing() as commit:
            await commit(
                self._store.set_discretion,
                conversation_id,
                discretion,
                actor_id=actor,
                now=self._clock(),
            )

    async def set_anonymity(
        self, conversation_id: ConversationId, mode: Anonymity | None, *, actor: UserId
    ) -> None:
        async with self._committing() as commit:
            await commit(
                self._store.set_anonymity, conversation_id, mode, actor_id=actor, now=self._clock()
            )

    async def link_contacts(
        self,
        conversation_id: ConversationId,
        other_id: ConversationId,
        *,
        actor: UserId,
        reason: str,
    ) -> tuple[ContactId, ContactId]:
        """A supervisor's decision that the other conversation's consulter is this one's: her
        contact merges into this one's (storage: link_contacts), audited with the reason.
        Returns (the contact kept, the contact merged into it)."""
        async with self._committing() as commit:
            return await commit(
                self._store.link_contacts,
                conversation_id,
                other_id,
                actor_id=actor,
                reason=reason,
                now=self._clock(),
            )

    async def record_reveal(
        self, conversation_id: ConversationId, *, actor: UserId, reason: str, mode: Anonymity
    ) -> None:
        """The address_revealed audit record (who, which conversation, why; never the address),
        written before the address may be shown."""
        async with self._committing() as commit:
            await commit.event(
                "address_revealed",
                now=self._clock(),
                actor_id=actor,
                conversation_id=conversation_id,
                data={"reason": reason.strip(), "anonymity": mode.value},
            )

    async def record_download(
        self,
        conversation_id: ConversationId,
        message_id: MessageId,
        position: int,
        *,
        actor: UserId,
    ) -> None:
        """The attachment_downloaded audit record, written before the bytes may leave."""
        data: dict[str, Any] = {"message_id": message_id, "position": position}
        async with self._committing() as commit:
            await commit.event(
                "attachment_downloaded",
                now=self._clock(),
                actor_id=actor,
                conversation_id=conversation_id,
                data=data,
            )

    async def record_read(self, conversation_id: ConversationId, *, actor: UserId) -> bool:
        """The conversation_read audit record (who, which conversation; nothing of what she read),
        written before the conversation may be shown. A read by her of the same conversation
        within READ_COALESCE is the same read and writes nothing (returns False): her screen
        fetches it again on every event that concerns it."""
        now = self._clock()
        async with self._committing() as commit:
            if self._reads.lately(actor, conversation_id, now):
                return False  # recorded here lately: not even the database is asked
            read = await commit.maybe(
                self._store.record_read, conversation_id, actor, now=now, coalesce=READ_COALESCE
            )
        # kept here with the time of the read that stands, when the database found one too:
        # her next refetches within the window then ask it no more
        self._reads.recorded(actor, conversation_id, read.at)
        return read.written
