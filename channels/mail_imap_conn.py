"""One aioimaplib connection made dependable for channels.mail_imap: TLS or STARTTLS, login,
fresh capabilities, and every step raced against the connection dropping, so nothing hangs.

Every failure is a ChannelError. A drop, a timeout or a library error closes the connection
(its protocol state is unknown then) and is retryable; so is a NO with a temporary response
code. Messages name the step, host and response code, never the server's free text, mail
contents or the username (often an address)."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import aioimaplib

from channels import mail_imap_wire as wire
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind

# RFC 5530 codes: "try again later" versus "this will not work until someone acts".
TEMPORARY_CODES = frozenset({"UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT", "OVERQUOTA"})
PERMANENT_CODES = frozenset(
    {"AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED", "PRIVACYREQUIRED", "CANNOT",
     "NOPERM", "NONEXISTENT", "CONTACTADMIN"}
)  # fmt: skip

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapSettings:
    host: str
    port: int
    security: Literal["tls", "starttls", "plain"]
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"  # the server's own name for it, delimiter and all
    ssl_context: ssl.SSLContext | None = None  # None: the system CAs, hostname checked
    timeout_s: float = 30.0  # per command; a FETCH may run longer while data keeps arriving
    poll_interval_s: float = 60.0  # how often wait_for_new() looks when the server lacks IDLE


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mail_error(message: str, *, retryable: bool) -> ChannelError:
    return ChannelError(message, channel=ChannelKind.MAIL, retryable=retryable)


class ImapConnection:
    """A logged-in aioimaplib client; open() connects, close() logs out and closes."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.where = f"IMAP {settings.host}:{settings.port}"
        self.caps: frozenset[str] = frozenset()
        self._client: aioimaplib.IMAP4 | None = None
        self._lost: asyncio.Future[None] | None = None

    @property
    def is_open(self) -> bool:
        return self._client is not None and self._lost is not None and not self._lost.done()

    @property
    def client(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise mail_error(f"{self.where}: not connected; call connect()", retryable=True)
        return self._client

    async def open(self) -> None:
        await self.close()
        s = self.settings
        if s.security == "plain" and not is_loopback(s.host):
            raise mail_error(
                f"{self.where}: refusing to send the password unencrypted to a host that is "
                'not loopback; set security = "tls" (port 993) or "starttls" (port 143)',
                retryable=False,
            )
        context = None if s.security == "plain" else s.ssl_context or ssl.create_default_context()
        # aioimaplib lets pending commands hang until their timeout when the connection drops;
        # this future lets every step fail at once instead. One per connection, bound here:
        # close() may have forgotten it already when the socket finally goes.
        self._lost = lost = asyncio.get_running_loop().create_future()
        self._client = client = aioimaplib.IMAP4(
            host=s.host,
            port=s.port,
            timeout=s.timeout_s,
            conn_lost_cb=lambda exc: _resolve(lost),
            ssl_context=context if s.security == "tls" else None,
        )
        try:
            await self.run("connect", client.wait_hello_from_server())
            if context is not None and s.security == "starttls":
                await self._starttls(client, context)
            # aioimaplib quotes the password but sends the username bare: quote it too
            login = client.login(aioimaplib.quoted(s.username), s.password)
            await self.command("LOGIN", login, permanent=True)
            # Servers may change capabilities at login (Dovecot adds MOVE, UIDPLUS...), and
            # aioimaplib only merges an untagged CAPABILITY sent with the answer: ask again.
            await self.run("CAPABILITY", client.protocol.capability())
            self.caps = frozenset(client.protocol.capabilities)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Log out (briefly) and close the socket; safe at any time, also twice."""
        client, lost = self._client, self._lost
        if client is None or lost is None:
            return
        try:
            if not lost.done() and client.get_state() in (aioimaplib.AUTH, aioimaplib.SELECTED):
                with suppress(ChannelError):
                    await self.run("LOGOUT", client.logout(), min(self.settings.timeout_s, 2.0))
        finally:
            await self._abandon()

    async def command(self, what: str, step: Awaitable[Any], *, permanent: bool = False) -> Any:
        """run() a command and check its answer; the aioimaplib Response."""
        response = await self.run(what, step)
        self.check(what, response, permanent=permanent)
        return response

    async def run(
        self,
        what: str,
        step: Awaitable[T],
        timeout_s: float | Literal["default"] | None = "default",
    ) -> T:
        """Await one aioimaplib step, failing at once when the connection drops."""
        lost = self._lost
        if lost is None or lost.done():
            if asyncio.iscoroutine(step):
                step.close()  # never started: close it, or Python warns it was never awaited
            await self._abandon()
            raise mail_error(
                f"{self.where}: connection lost before {what}; reconnect", retryable=True
            )
        limit = self.settings.timeout_s if timeout_s == "default" else timeout_s
        # A task of its own only to race the lost future; cancelled before this returns, so
        # it never outlives the call and needs no TaskGroup.
        task = asyncio.ensure_future(step)
        problem: str | None
        try:
            async with asyncio.timeout(limit):
                await asyncio.wait((task, lost), return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            problem = f"{what} timed out after {limit} s"
        else:
            problem = None if task.done() else f"connection lost during {what}"
        finally:
            if not task.done():
                task.cancel()
        if problem is None:
            try:
                return task.result()
            except ssl.SSLCertVerificationError as exc:
                await self._abandon()
                raise mail_error(f"{self.where}: certificate not trusted", retryable=False) from exc
            except OSError as exc:  # refused, reset, unreachable: the cause holds no mail data
                await self._abandon()
                raise mail_error(f"{self.where}: {what} failed; reconnect", retryable=True) from exc
            except (aioimaplib.AioImapException, TimeoutError):
                # not chained: a CommandTimeout's text is the command, LOGIN's with the password
                problem = f"{what} failed inside aioimaplib"
        await self._abandon()
        raise mail_error(f"{self.where}: {problem}; reconnect", retryable=True)

    def check(self, what: str, response: Any, *, permanent: bool = False) -> None:
        """Raise for NO or BAD. `permanent`: a NO without a temporary code will not get better
        by retrying (wrong password, no such folder)."""
        if response.result == "OK":
            return
        code = wire.response_code(response.lines)
        retryable = (
            response.result == "NO"
            and code not in PERMANENT_CODES
            and (code in TEMPORARY_CODES or not permanent)
        )
        shown = f" [{code}]" if code else ""
        hint = "" if retryable else "; check the settings (user, password, folder)"
        raise mail_error(
            f"{self.where}: {what} answered {response.result}{shown}{hint}", retryable=retryable
        )

    async def idle(self, timeout_s: float) -> bool:
        """IDLE up to `timeout_s`; whether the server pushed EXISTS (new mail)."""
        client = self.client
        queue: asyncio.Queue[list[bytes]] = client.protocol.idle_queue
        _drain(queue)
        # aioimaplib's own IDLE timer only has to outlast ours
        idle = await self.run(
            "IDLE", client.idle_start(timeout=timeout_s + self.settings.timeout_s)
        )
        pushed = await self.run("IDLE", _pushed_exists(queue, timeout_s), None)
        if client.has_pending_idle():  # a DONE outside IDLE gets a BAD that aioimaplib chokes on
            client.idle_done()
        await self.command("IDLE", idle)
        return _drain(queue) or pushed

    async def _starttls(self, client: aioimaplib.IMAP4, context: ssl.SSLContext) -> None:
        # aioimaplib has no STARTTLS: send the command, then upgrade the transport in place.
        if not client.has_capability("STARTTLS"):
            raise mail_error(f"{self.where}: server offers no STARTTLS; use tls", retryable=False)
        proto = client.protocol
        starttls = aioimaplib.Command("STARTTLS", proto.new_tag(), loop=proto.loop)
        await self.command("STARTTLS", proto.execute(starttls), permanent=True)
        loop = asyncio.get_running_loop()
        upgrade = loop.start_tls(
            proto.transport, proto, context, server_hostname=self.settings.host
        )
        proto.transport = await self.run("TLS handshake", upgrade)
        await self.run("CAPABILITY", proto.capability())  # what came before TLS can't be trusted

    async def _abandon(self) -> None:
        client, lost = self._client, self._lost
        self._client = self._lost = None
        self.caps = frozenset()
        if client is not None and lost is not None:
            await _shut(client, lost)


def _resolve(lost: asyncio.Future[None]) -> None:
    if not lost.done():
        lost.set_result(None)


async def _pushed_exists(queue: asyncio.Queue[list[bytes]], timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                lines = await queue.get()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return False
                if wire.has_exists(lines):
                    return True
    except TimeoutError:
        return False


def _drain(queue: asyncio.Queue[list[bytes]]) -> bool:
    """Empty the IDLE push queue; whether it held an EXISTS (pushed after we stopped looking)."""
    exists = False
    while not queue.empty():
        exists = wire.has_exists(queue.get_nowait()) or exists
    return exists


async def _shut(client: aioimaplib.IMAP4, lost: asyncio.Future[None]) -> None:
    """Close the socket and wait until it is closed (else: ResourceWarning at loop exit)."""
    transport = client.protocol.transport
    if transport is not None and not lost.done():
        transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(lost), 2.0)
        except TimeoutError:
            transport.abort()  # a TLS close_notify the server never answers
    # aioimaplib's helper tasks (connect, IDLE, welcome) would linger or log "never retrieved"
    leftovers = [client._client_task, *client.tasks, *client.protocol.tasks]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
