"""A thin asyncio IMAP client for mail intake, over aioimaplib: list new UIDs, fetch raw
messages without setting \\Seen, mark them handled, and wait for new mail (IDLE, else polling).

Every failure is a ChannelError (see channels.mail_imap_conn): drops, timeouts and temporary
answers are retryable and leave the mailbox closed, so the caller reconnects with connect(); a
wrong password, a missing folder or an untrusted certificate are not. Messages never contain
mail contents or addresses. One task at a time per ImapMailbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Literal, Self, assert_never

from channels import mail_imap_wire as wire
from channels.mail_imap_conn import ImapConnection, ImapSettings, mail_error

__all__ = ["HANDLED_FLAG", "HANDLED_FOLDER", "ImapMailbox", "ImapSettings"]

HANDLED_FLAG = "$TsunaguStored"
HANDLED_FOLDER = "Tsunagu/Stored"  # "/" is replaced by the server's hierarchy delimiter


class ImapMailbox:
    """One IMAP connection with `settings.folder` selected. connect() (re)opens it; close() or
    leaving `async with` closes it. The caller owns both."""

    def __init__(self, settings: ImapSettings) -> None:
        self._s = settings
        self._conn = ImapConnection(settings)
        self._uidvalidity: int | None = None
        self._next_uid = 1  # the lowest UID that wait_for_new() has not reported yet
        self._delimiter: str | None = None
        self._created: set[str] = set()  # folders known to exist on this connection

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def uidvalidity(self) -> int:
        """UIDVALIDITY of the selected folder: when it changes, stored UIDs mean nothing."""
        if self._uidvalidity is None:
            raise RuntimeError("ImapMailbox.connect() has not succeeded")
        return self._uidvalidity

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self._conn.caps

    @property
    def has_move(self) -> bool:
        return "MOVE" in self._conn.caps

    @property
    def connected(self) -> bool:
        return self._conn.is_open

    async def connect(self) -> None:
        """Open, secure, log in and select the folder; closes an earlier connection first."""
        await self.close()
        await self._conn.open()
        try:
            folder = wire.quote_mailbox(self._s.folder)
            selected = await self._conn.command(
                "SELECT", self._conn.client.select(folder), permanent=True
            )
            uidvalidity = wire.status_number(selected.lines, "UIDVALIDITY")
            if uidvalidity is None:
                raise mail_error(f"{self._conn.where}: SELECT gave no UIDVALIDITY", retryable=False)
        except BaseException:
            await self.close()
            raise
        self._uidvalidity = uidvalidity
        self._next_uid = wire.status_number(selected.lines, "UIDNEXT") or 1

    async def close(self) -> None:
        """Log out and close the connection; safe at any time, also twice."""
        self._uidvalidity = None
        self._created.clear()
        await self._conn.close()

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending. `UID SEARCH UID n:*` always matches the highest
        UID even when that is below n (RFC 3501 6.4.8), so the answer is filtered."""
        found = await self._search("UID", f"{last_uid + 1}:*")
        return self._note([uid for uid in found if uid > last_uid])

    async def uids_unhandled(self, *, flag: str = HANDLED_FLAG) -> list[int]:
        """UIDs that mark_handled(how="flag") has not flagged, leaving out deleted ones."""
        return self._note(await self._search("UNKEYWORD", wire.check_keyword(flag), "UNDELETED"))

    async def fetch(
        self, uids: Sequence[int], *, chunk: int = 200
    ) -> AsyncIterator[tuple[int, bytes]]:
        """(uid, raw RFC 822 bytes, CRLF as stored) for each UID still there, ascending.
        BODY.PEEK leaves \\Seen alone, so a crash before mark_handled() means a redelivery,
        which the store recognises. A chunk's messages are held in memory together."""
        ordered = sorted(set(uids))
        if not ordered:
            return
        await self._sync()
        for start in range(0, len(ordered), chunk):
            part = ordered[start : start + chunk]
            step = self._conn.client.uid("fetch", wire.uid_set(part), "(UID BODY.PEEK[])")
            # No overall deadline: aioimaplib's own timer fails a FETCH only when data stops.
            response = await self._conn.run("FETCH", step, None)
            self._conn.check("FETCH", response)
            bodies = wire.fetch_bodies(response.lines)
            for uid in part:
                if uid in bodies:
                    yield uid, bodies[uid]

    async def mark_handled(
        self,
        uids: Sequence[int],
        *,
        how: Literal["flag", "move"],
        flag: str = HANDLED_FLAG,
        folder: str = HANDLED_FOLDER,
    ) -> None:
        """Flag the messages with `flag`, or move them to `folder` (created when missing)."""
        if not uids:
            return
        await self._sync()
        targets = wire.uid_set(uids)
        match how:
            case "flag":
                keyword = f"({wire.check_keyword(flag)})"
                await self._uid("STORE", "store", targets, "+FLAGS.SILENT", keyword)
            case "move":
                await self._move(targets, await self._folder(folder))
            case _:
                assert_never(how)

    async def wait_for_new(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for new mail; True when some arrived. A False can still hide
        mail (a push lost on the way), so callers look with uids_after() after every return."""
        # aioimaplib drops an EXISTS that comes with the answer to another command; look first
        if await self._arrived():
            return True
        if self.has_idle:
            return await self._conn.idle(timeout_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, self._s.poll_interval_s))
            if await self._arrived():
                return True
        return False

    async def _sync(self) -> None:
        # A command sees only the messages this session has been told of, and the server tells
        # (EXISTS) at the end of a command. Without this NOOP a UID SEARCH misses mail that
        # came meanwhile, and a UID FETCH or STORE of a UID learnt elsewhere does nothing.
        await self._conn.command("NOOP", self._conn.client.noop())

    async def _search(self, *criteria: str) -> list[int]:
        await self._sync()
        # charset=None: the criteria are ASCII, and some servers reject a CHARSET argument
        step = self._conn.client.uid_search(*criteria, charset=None)
        return wire.search_uids((await self._conn.command("SEARCH", step)).lines)

    async def _uid(self, what: str, command: str, *args: str) -> None:
        await self._conn.command(what, self._conn.client.uid(command, *args))

    def _note(self, uids: list[int]) -> list[int]:
        if uids:
            self._next_uid = max(self._next_uid, uids[-1] + 1)
        return uids

    async def _arrived(self) -> bool:
        before = self._next_uid
        found = await self._search("UID", f"{before}:*")
        return bool(self._note([uid for uid in found if uid >= before]))

    async def _folder(self, path: str) -> str:
        if self._delimiter is None:
            listed = await self._conn.command("LIST", self._conn.client.list('""', '""'))
            self._delimiter = wire.list_delimiter(listed.lines) or ""
        try:
            name = wire.mailbox_argument(path, self._delimiter or None)
        except ValueError as exc:  # e.g. "a/b" on a server without folder hierarchy
            raise mail_error(f"{self._conn.where}: {exc}", retryable=False) from exc
        if name not in self._created:
            created = await self._conn.run("CREATE", self._conn.client.create(name))
            if wire.response_code(created.lines) != "ALREADYEXISTS":
                self._conn.check("CREATE", created, permanent=True)
            self._created.add(name)
        return name

    async def _move(self, targets: str, folder: str) -> None:
        if self.has_move:
            await self._uid("MOVE", "move", targets, folder)
            return
        await self._uid("COPY", "copy", targets, folder)
        await self._uid("STORE", "store", targets, "+FLAGS.SILENT", r"(\Deleted)")
        # Without UIDPLUS the originals stay \Deleted (uids_unhandled skips them): a plain
        # EXPUNGE would also purge whatever someone else marked \Deleted in this folder.
        if "UIDPLUS" in self._conn.caps:
            await self._uid("EXPUNGE", "expunge", targets)
