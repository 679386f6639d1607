"""Real mail servers on 127.0.0.1 for the mail tests: a throwaway Dovecot (IMAP) started from a
config in a temp dir (inbox.tools.dovecot), and an in-loop aiosmtpd sink (SMTP) that records or
refuses deliveries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from aiosmtpd.smtp import SMTP, Envelope, Session

from inbox.tools.dovecot import (
    HOST,
    INSTALL,
    DovecotMissing,
    DovecotServer,
    MailAccount,
    free_port,
    wait_port,
)
from tests import skips

__all__ = [
    "HOST",
    "HOW_TO_ENABLE",
    "Dovecot",
    "MailAccount",
    "SinkStage",
    "SmtpSink",
    "free_port",
    "start_smtp_sink",
    "wait_port",
]

HOW_TO_ENABLE = f"to run the IMAP tests, {INSTALL}"


class Dovecot(DovecotServer):
    """inbox.tools.dovecot's server, with TLS; skips the test (fails it under TSUNAGU_TEST_STRICT=1)
    when Dovecot is not installed."""

    def __init__(self) -> None:
        try:
            super().__init__(tls=True)
        except DovecotMissing:
            skips.skip_or_fail("Dovecot is not installed", HOW_TO_ENABLE)


SinkStage = Literal["mail", "rcpt", "data"]


@dataclass
class SmtpSink:
    """aiosmtpd handler: records each accepted envelope; fail_next() refuses the next ones."""

    host: str = HOST
    port: int = 0
    envelopes: list[Envelope] = field(default_factory=list)
    _failures: dict[SinkStage, list[str]] = field(default_factory=dict)

    def fail_next(self, n: int, code: int, *, stage: SinkStage = "data") -> None:
        """Answer the next `n` MAIL FROM, RCPT TO (each recipient counts) or DATA with `code`."""
        status = "4.3.0" if code < 500 else "5.7.1"
        # the text names an address, as real servers do, so tests can check it is not passed on
        reply = f"{code} {status} <someone@example.jp> refused by the sink"
        self._failures.setdefault(stage, []).extend([reply] * n)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if refusal := self._refusal("mail"):
            return refusal
        envelope.mail_from, envelope.mail_options = address, list(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if refusal := self._refusal("rcpt"):
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if refusal := self._refusal("data"):
            return refusal
        self.envelopes.append(envelope)
        return "250 OK queued"

    def _refusal(self, stage: SinkStage) -> str | None:
        pending = self._failures.get(stage)
        return pending.pop(0) if pending else None


async def start_smtp_sink() -> tuple[SmtpSink, asyncio.Server]:
    """The sink served in this loop on a free port (aiosmtpd's Controller can't use port 0)."""
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", enable_SMTPUTF8=True), HOST, 0
    )
    sink.port = server.sockets[0].getsockname()[1]
    return sink, server
