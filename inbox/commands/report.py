"""Staff commands of the grant report: an export (the CSV, the printed page) recorded for the
audit log, and the retention rule's purge of bodies (the CLI's `purge-bodies`).

Who may is checked before (inbox.web.report: supervisors and admins)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from inbox.commands.writes import Commands
from inbox.core.model import UserId

REPORT_EXPORTED = "report_exported"
ExportKind = Literal["csv", "print"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("csv", "print")


class ReportCommands(Commands):
    async def exported(self, kind: ExportKind, first: date, last: date, *, actor: UserId) -> None:
        """Record that `actor` took the report of these days out of the inbox (audit log)."""
        async with self._committing() as commit:
            await commit.event(
                REPORT_EXPORTED,
                now=self._clock(),
                actor_id=actor,
                data={"export": kind, "period": f"{first.isoformat()}/{last.isoformat()}"},
            )

    async def purge_bodies(
        self, before: datetime, *, batch: int = 5000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Empty the bodies of messages in conversations closed before `before`; how many."""
        async with self._committing() as commit:
            return await commit.maybe(
                self._store.purge_bodies,
                before=before,
                now=self._clock(),
                batch=batch,
                progress=progress,
            )
