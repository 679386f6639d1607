"""Fixtures for the mail tests: a real Dovecot per session, a fresh IMAP user per test, and an
in-loop SMTP sink per test. Tests that use Dovecot carry the `mail` marker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.mailservers import Dovecot, MailAccount, SmtpSink, start_smtp_sink


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot on 127.0.0.1:<free port>; skips (fails under TSUNAGU_TEST_STRICT=1) without it."""
    yield from running_dovecot()


@pytest.fixture
def private_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, for tests that upset server-wide state: after a failed
    login Dovecot delays every login from that IP by seconds (its auth penalty, which no
    setting turns off), and the session server would pass that delay on to later tests."""
    yield from running_dovecot()


@pytest.fixture
def mail_account(dovecot: Dovecot) -> MailAccount:
    """A new IMAP user, so no test sees another test's mail."""
    return dovecot.add_user()


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """An SMTP server in the test's loop that records envelopes; see SmtpSink.fail_next()."""
    sink, server = await start_smtp_sink()
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


def running_dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.close()
