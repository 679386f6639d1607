"""Staff commands on the board's alerts: a supervisor acknowledges one (who, when: an event).

Who may is checked before (inbox.web.board)."""

from __future__ import annotations

from inbox.commands.writes import Commands
from inbox.core.board import AlertAck
from inbox.core.model import UserId


class AlertCommands(Commands):
    async def acknowledge(self, event_id: int, *, actor: UserId) -> AlertAck:
        """Acknowledge the alert event `event_id`; one acknowledged before keeps its first
        acknowledgement. Raises NotFound for an event that is no alert."""
        async with self._committing() as commit:
            return await commit(
                self._store.acknowledge_alert, event_id, actor_id=actor, now=self._clock()
            )
