"""Staff commands of casework (issue 17): a consultation's topics and her age group, and the
activities staff log outside conversations. Who may do what is checked before (inbox.web.access,
inbox.web.casework); each command writes through the store and wakes whoever its events concern
(inbox.commands.writes)."""

from __future__ import annotations

from collections.abc import Collection

from inbox.commands.writes import Commands
from inbox.core.activity import Activity, ActivityDraft
from inbox.core.model import ContactId, ConversationId, UserId


class CaseworkCommands(Commands):
    async def set_conversation_topics(
        self, conversation_id: ConversationId, topics: Collection[str], *, actor: UserId
    ) -> tuple[str, ...]:
        async with self._committing() as commit:
            return await commit(
                self._store.set_conversation_topics,
                conversation_id,
                topics,
                actor_id=actor,
                now=self._clock(),
            )

    async def set_call_topics(
        self, call_id: int, topics: Collection[str], *, actor: UserId
    ) -> tuple[str, ...]:
        async with self._committing() as commit:
            return await commit(
                self._store.set_call_topics, call_id, topics, actor_id=actor, now=self._clock()
            )

    async def set_age_group(
        self,
        contact_id: ContactId,
        age_group: str | None,
        *,
        actor: UserId,
        conversation_id: ConversationId | None = None,
    ) -> str | None:
        async with self._committing() as commit:
            return await commit(
                self._store.set_age_group,
                contact_id,
                age_group,
                actor_id=actor,
                now=self._clock(),
                conversation_id=conversation_id,
            )

    async def log_activity(self, draft: ActivityDraft, *, actor: UserId) -> Activity:
        async with self._committing() as commit:
            return await commit(self._store.add_activity, draft, staff_id=actor, now=self._clock())

    async def edit_activity(
        self, activity_id: int, draft: ActivityDraft, *, actor: UserId, any_staff: bool
    ) -> Activity:
        """Hers, or anyone's when `any_staff` (a supervisor)."""
        async with self._committing() as commit:
            return await commit(
                self._store.update_activity,
                activity_id,
                draft,
                actor_id=actor,
                owner=None if any_staff else actor,
                now=self._clock(),
            )

    async def delete_activity(self, activity_id: int, *, actor: UserId, any_staff: bool) -> None:
        async with self._committing() as commit:
            await commit(
                self._store.delete_activity,
                activity_id,
                actor_id=actor,
                owner=None if any_staff else actor,
                now=self._clock(),
            )
