"""Staff commands on the program's canned replies: a supervisor adds, edits and deletes them.

Who may is checked before (inbox.web.desk); the draft is checked there too."""

from __future__ import annotations

from inbox.commands.writes import Commands
from inbox.core.model import CannedReply, CannedReplyDraft, CannedReplyId, UserId


class CannedReplyCommands(Commands):
    async def create(self, draft: CannedReplyDraft, *, actor: UserId) -> CannedReply:
        async with self._committing() as commit:
            return await commit(
                self._store.create_canned_reply, draft, actor_id=actor, now=self._clock()
            )

    async def update(
        self, reply_id: CannedReplyId, draft: CannedReplyDraft, *, actor: UserId
    ) -> CannedReply:
        async with self._committing() as commit:
            return await commit(
                self._store.update_canned_reply, reply_id, draft, actor_id=actor, now=self._clock()
            )

    async def delete(self, reply_id: CannedReplyId, *, actor: UserId) -> None:
        async with self._committing() as commit:
            await commit(
                self._store.delete_canned_reply, reply_id, actor_id=actor, now=self._clock()
            )
