"""A consulter's words never reach the log: marked bodies, replies, notes, reveal reasons,
display names, addresses and subjects go through every failure path, on SQLite and PostgreSQL
and in both log formats, with the database failing below the store (tests/injected_faults.py),
and the mark appears nowhere in what was logged, at any level."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from channels.mail import MailIntake, MailSettings
from channels.mail_imap import ImapSettings
from channels.mail_smtp import SmtpSettings
from inbox import cli
from inbox.app import build_store
from inbox.auth import hash_password
from inbox.cli import report_crash
from inbox.config import Config
from inbox.core.errors import ChannelError, StorageError, Unstorable
from inbox.core.model import ChannelKind
from inbox.pipeline import Intake
from storage.base import Store
from tests.factories import T0, inbound, new_user, outbox_sender
from tests.fakes import ScriptedChannel
from tests.injected_faults import FAIL, MARK, TRIGGER, Faults, actions, captured_logs, driver_faults
from tests.mail.conftest import running_dovecot
from tests.mail.test_parse import raw
from tests.mailservers import Dovecot
from tests.pgutil import PgTemplate
from tests.stores import SQLITE
from tests.web.conftest import PASSWORD, STAFF, make_config, running, sign_in

KEY = b"k" * 32


@pytest.fixture(params=["json", "text"])
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[Dovecot]:
    """A Dovecot for this module's mail case (skips, or fails under TSUNAGU_TEST_STRICT=1,
    without dovecot-imapd)."""
    yield from running_dovecot()


@pytest.fixture
def logs(fmt: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Faulty driver connections for every store opened in the test, and everything logged."""
    with driver_faults(monkeypatch), captured_logs(fmt) as stream:
        yield stream


@pytest.fixture
async def cfg(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Config]:
    """The server's configuration, on SQLite under tmp_path or on a fresh PostgreSQL database."""
    cfg = make_config(tmp_path)
    if store_kind == SQLITE:
        yield cfg
        return
    template: PgTemplate = request.getfixturevalue("pg_template")
    url = await template.fresh_database()
    yield dataclasses.replace(cfg, database=dataclasses.replace(cfg.database, url=url))
    await template.drop(url)


@pytest.fixture
async def store(cfg: Config, logs: io.StringIO) -> AsyncIterator[Store]:
    """The store of cfg, opened on faulty connections (logs patches them first)."""
    async with build_store(cfg.database) as opened:
        await opened.migrate()
        yield opened


def assert_unmarked(logs: io.StringIO, fmt: str, *expected_actions: str) -> None:
    written = logs.getvalue()
    logged = actions(logs, fmt)
    for action in expected_actions:  # the failure happened and was logged, mark or no mark
        assert action in logged, f"{action} not logged: {logged}"
    assert MARK not in written, written


@pytest.mark.both_stores  # the driver's errors differ
async def test_a_failed_intake_batch_logs_none_of_its_consulters(
    store: Store, logs: io.StringIO, fmt: str
) -> None:
    """Several consulters in one batch, one of whose messages the driver cannot take: asyncpg's
    DataError then quotes the batch's arrays, i.e. the other consulters' bodies."""
    intake = Intake(store, KEY, queue_max=100, batch_max=100, ack_timeout_s=10)
    batch = [
        inbound(f"{MARK}-{n}@example.org", body=f"{MARK} 相談 {n}", channel=ChannelKind.MAIL)
        for n in range(5)
    ]
    batch.insert(3, inbound(f"{MARK}-x@example.org", body=f"{TRIGGER} 本文"))
    Faults.armed = True
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        outcomes = await intake.submit_each([item.message for item in batch])
        writer.cancel()
    # the batch is stored in halves; the one message the driver refuses alone is refused
    refused = [o for o in outcomes if isinstance(o, Unstorable)]
    assert len(refused) == 1 and outcomes[3] is refused[0]
    assert MARK not in str(refused[0]) and TRIGGER not in str(refused[0])  # no DB detail
    assert_unmarked(logs, fmt, "intake_batch_split", "intake_message_refused")


@pytest.mark.both_stores  # the driver's errors differ
async def test_failed_api_writes_log_no_reply_note_reason_or_name(
    cfg: Config, store: Store, logs: io.StringIO, fmt: str
) -> None:
    password_hash = hash_password(PASSWORD)
    for name, roles in STAFF.items():
        user = dataclasses.replace(new_user(name, roles=roles), password_hash=password_hash)
        await store.create_user(user, now=T0)
    (first,) = await store.save_inbound_batch(
        [inbound(f"{MARK}@example.org", body=f"{MARK} はじめまして", channel=ChannelKind.MAIL)]
    )
    conv = f"/api/conversations/{first.conversation_id}"
    new_user_json = {
        "username": "tanaka",
        "display_name": f"{TRIGGER} 田中",
        "password": PASSWORD,
        "roles": ["counselor"],
    }
    async with running(cfg) as url:
        boss, admin = await sign_in(url, "boss"), await sign_in(url, "admin")
        async with boss, admin:
            Faults.armed = True
            statuses = [
                await _status(boss, f"{url}{conv}/replies", {"body": f"{TRIGGER} 返信"}),
                await _status(boss, f"{url}{conv}/notes", {"body": f"{TRIGGER} メモ"}),
                await _status(boss, f"{url}{conv}/reveal", {"reason": f"{TRIGGER} 理由"}),
                await _status(admin, f"{url}/api/users", new_user_json),
            ]
            Faults.armed = False
    assert statuses == [503] * 4
    assert_unmarked(logs, fmt, "request_db_error")
    assert actions(logs, fmt).count("request_db_error") == 4


async def _status(session: aiohttp.ClientSession, url: str, body: object) -> int:
    async with session.post(url, json=body) as response:
        return response.status


@pytest.mark.both_stores  # the driver's errors differ
async def test_failed_sends_whose_outcome_is_not_recorded_log_no_address(
    store: Store, logs: io.StringIO, fmt: str
) -> None:
    """Two replies. The first is sent, and recording its provider id (outside text, here
    holding the mark) fails in the driver, which quotes it: the outbox logs that and goes on.
    The second fails in a channel error chained to a client error that quotes the address (ours
    never do: mail_smtp._safe_cause); recording that fails too, the outbox stops, and the
    command reports the crash (inbox.cli.report_crash)."""
    (first,) = await store.save_inbound_batch([inbound(f"{MARK}@example.org")])
    boss = await store.create_user(new_user("boss"), now=T0)
    for n in range(2):
        await store.add_reply(first.conversation_id, author_id=boss.id, body=f"{MARK} {n}", now=T0)
    refusal = ChannelError(f"550 5.1.1 {FAIL}", channel="webchat", retryable=True)
    refusal.__cause__ = ValueError(f"{MARK}@example.org: no such user")
    sender = outbox_sender(
        store,
        {ChannelKind.WEBCHAT: ScriptedChannel([f"<{TRIGGER}@mx.example.org>", refusal])},
        clock=lambda: datetime.now(UTC),
        max_attempts=5,
        backoff_max_s=10,
    )
    Faults.armed = True
    with pytest.raises(StorageError) as failed:
        await sender.send_due()
    report_crash(failed.value)
    assert MARK not in str(failed.value)
    assert_unmarked(logs, fmt, "outbox_record_failed", "crashed")


@pytest.mark.both_stores  # the driver's errors differ
async def test_a_mail_the_store_cannot_take_logs_no_sender_subject_or_body(
    store: Store, logs: io.StringIO, fmt: str, imap_server: Dovecot
) -> None:
    mail_account = imap_server.add_user()
    mail_account.deliver(
        raw(
            f"From: {MARK} <{MARK}@example.org>",
            "To: soudan@city.example.jp",
            f"Subject: {MARK} 件名",
            f"Message-ID: <{MARK}@example.org>",
            body=f"{TRIGGER} 本文\n",
        )
    )
    # The store refuses the mail (the fault), so the intake refuses it alone and the mail
    # intake stores it in its reduced form: sender and a note, no subject, no body.
    reduced = asyncio.Event()
    logging.getLogger("channels.mail").addFilter(_setter(reduced, "mail_reduced"))
    intake = Intake(store, KEY, queue_max=100, batch_max=100, ack_timeout_s=10)
    settings = MailSettings(
        imap=ImapSettings(
            host=mail_account.host,
            port=mail_account.port,
            security="plain",
            username=mail_account.user,
            password=mail_account.password,
            timeout_s=5.0,
        ),
        smtp=SmtpSettings(host="127.0.0.1", port=9, security="plain", timeout_s=1.0),
        address="soudan@city.example.jp",
        domain="city.example.jp",
    )
    mail = MailIntake(settings, intake, store, clock=lambda: datetime.now(UTC))
    Faults.armed = True
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        reader = tg.create_task(mail.run())
        await asyncio.wait_for(reduced.wait(), 20)
        reader.cancel()
        writer.cancel()
    assert_unmarked(logs, fmt, "intake_message_refused", "mail_reduced")


def _setter(event: asyncio.Event, action: str) -> logging.Filter:
    """A filter that lets every record through and sets `event` on one with `action`."""

    class Seen(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if getattr(record, "action", None) == action:
                event.set()
            return True

    return Seen()


def test_an_error_that_stops_a_command_is_logged_without_its_text(
    monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    def crash(args: object) -> int:
        try:
            int(MARK)
        except ValueError as exc:
            raise RuntimeError(f"{MARK} could not be read") from exc
        return 0

    monkeypatch.setattr(cli, "cmd_check_config", crash)
    with captured_logs(fmt) as logs:
        assert cli.main(["check-config"]) == 1
    assert_unmarked(logs, fmt, "crashed")
    assert "\nRuntimeError" in logs.getvalue().replace("\\n", "\n")  # the type stays
