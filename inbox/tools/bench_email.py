"""`tsunagu bench email`: mail from a Dovecot mailbox into the database, against a plain FETCH.

A throwaway Dovecot (inbox.tools.dovecot) gets N synthetic Japanese mails
(inbox.tools.synthetic_mails) by APPEND. The baseline reads them the way MailIntake does (UID
SEARCH, then UID FETCH BODY.PEEK[] in the same chunks) with ImapMailbox, but parses and stores
nothing; best of three. The intake is MailIntake.catch_up into a fresh database through the
real Intake with its writer running: fetch, parse, store by group commit, save threads and the
cursor, flag the mails on the server. Afterwards every mail must be stored once, decoded exactly,
in its sender's one conversation, and flagged handled on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from channels.mail import MailIntake, MailSettings
from channels.mail_imap import HANDLED_FLAG, ImapMailbox, ImapSettings
from channels.mail_intake import OurThreads, sort_mail
from channels.mail_parse import parse_mail
from channels.mail_smtp import SmtpSettings
from inbox.command_config import load
from inbox.config import Config
from inbox.core.errors import InboxError, ValidationError
from inbox.core.model import ConversationStatus, Direction
from inbox.pipeline import Intake, Stored
from inbox.tools.bench_databases import Backend, PostgresBackend, SqliteBackend
from inbox.tools.bench_report import progress
from inbox.tools.dovecot import DovecotMissing, DovecotServer, MailAccount
from inbox.tools.synthetic_mails import TO, SyntheticMail, build_mails
from routing.rules import labeler
from storage.base import Store

BASELINE_RUNS = 3  # best of three: the baseline is the fastest plain fetch
APPEND_CHUNK = 500  # mails per APPEND connection, and per progress line
EXIT_MISSING = 2  # like a configuration error: nothing ran
CONVERSATION_STATUSES = tuple(ConversationStatus)


@dataclass(frozen=True, slots=True)
class Outcome:
    backend: str
    ratio: float
    ok: bool


def settings_for(account: MailAccount) -> MailSettings:
    imap = ImapSettings(
        host=account.host,
        port=account.port,
        security="plain",
        username=account.user,
        password=account.password,
    )
    # SMTP is never used: the benchmark only reads mail.
    return MailSettings(
        imap=imap, smtp=SmtpSettings(host=account.host, port=25, security="plain"), address=TO
    )


def append_all(account: MailAccount, mails: Sequence[SyntheticMail]) -> float:
    start = perf_counter()
    for i in range(0, len(mails), APPEND_CHUNK):
        account.deliver_many([m.raw for m in mails[i : i + APPEND_CHUNK]])
        progress(f"appended {min(len(mails), i + APPEND_CHUNK)}/{len(mails)} mails")
    return perf_counter() - start


async def fetch_all(imap: ImapSettings, chunk: int) -> tuple[float, int]:
    """Seconds to list and fetch every mail on an open connection, as catch_up() does it but
    with nothing done to the mails; and how many came."""
    async with ImapMailbox(imap) as box:
        start = perf_counter()
        uids = await box.uids_after(0)
        fetched = 0
        for i in range(0, len(uids), chunk):
            async for _uid, _raw in box.fetch(uids[i : i + chunk], chunk=chunk):
                fetched += 1
        return perf_counter() - start, fetched


async def intake_run(store: Store, cfg: Config, mail: MailSettings) -> tuple[float, int, list[int]]:
    """Seconds for MailIntake.catch_up() of the whole mailbox, the mails it reported new, and
    the size of each commit of the intake writer."""
    commits: list[int] = []

    def stored(answers: Sequence[Stored]) -> None:
        commits.append(len(answers))

    intake = Intake(
        store,
        secrets.token_bytes(32),
        queue_max=cfg.intake.queue_max,
        batch_max=cfg.intake.batch_max,
        ack_timeout_s=cfg.intake.ack_timeout_s,
        on_stored=stored,
        label=labeler(cfg.routing.rules, cfg.routing.urgent, cfg.routing.timezone),
    )
    reader = MailIntake(mail, intake, store, clock=lambda: datetime.now(UTC))
    writer = asyncio.create_task(intake.run_writer(), name="bench-intake-writer")
    try:
        async with ImapMailbox(mail.imap) as box:
            start = perf_counter()
            new = await reader.catch_up(box)
            return perf_counter() - start, new, commits
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer


def parse_all(mails: Sequence[SyntheticMail], max_attachment_bytes: int) -> float:
    """Seconds to parse and sort every mail, after a warm-up on the first hundred (the email
    package builds its header classes and the codecs load on first use)."""
    now = datetime.now(UTC)
    ours = OurThreads(domain="bench.invalid", key=b"bench")
    for m in mails[:100]:
        sort_mail(
            parse_mail(m.raw, max_attachment_bytes=max_attachment_bytes), received_at=now, ours=ours
        )
    start = perf_counter()
    for m in mails:
        sort_mail(
            parse_mail(m.raw, max_attachment_bytes=max_attachment_bytes), received_at=now, ours=ours
        )
    return perf_counter() - start


def _exact(body: str, mail: SyntheticMail) -> bool:
    return mail.subject in body and mail.excerpt in body and "\ufffd" not in body


async def verify_store(store: Store, mails: Sequence[SyntheticMail]) -> tuple[str, bool]:
    """Every mail stored once, decoded exactly, each sender's mails in one conversation."""
    senders = {m.sender for m in mails}
    convs = await store.list_conversations(statuses=CONVERSATION_STATUSES, limit=len(mails) + 1)
    body_of: dict[str, str] = {}
    conv_of: dict[str, int] = {}
    extra = 0
    for conv in convs:
        for msg in await store.list_messages(conv.id, include_notes=False, limit=len(mails) + 1):
            if msg.direction is not Direction.INBOUND or not msg.external_id:
                continue
            message_id = msg.external_id.rpartition("#")[0]  # Message-ID#sender hash
            extra += message_id in body_of
            body_of[message_id], conv_of[message_id] = msg.body, conv.id
    stored = sum(m.message_id in body_of for m in mails)
    exact = sum(_exact(body_of.get(m.message_id, ""), m) for m in mails)
    convs_of: dict[str, set[int]] = {s: set() for s in senders}
    for m in mails:
        if m.message_id in conv_of:
            convs_of[m.sender].add(conv_of[m.message_id])
    threaded = sum(len(c) == 1 for c in convs_of.values())
    n = len(mails)
    text = (
        f"stored {stored}/{n} mails{f' ({extra} twice)' if extra else ''}, {exact}/{n} decoded "
        f"exactly, {len(convs)} conversations for {len(senders)} senders, {threaded} in one each"
    )
    ok = stored == exact == n and extra == 0 and len(convs) == threaded == len(senders)
    return text, ok


async def verify_flags(imap: ImapSettings, n: int) -> tuple[str, bool]:
    async with ImapMailbox(imap) as box:
        total = len(await box.uids_after(0))
        left = len(await box.uids_unhandled())
    return f"{total - left}/{n} flagged handled ({HANDLED_FLAG})", total == n and left == 0


async def bench_backend(
    backend: Backend,
    cfg: Config,
    mail: MailSettings,
    account: MailAccount,
    mails: Sequence[SyntheticMail],
    fetch_s: float,
) -> Outcome:
    n = len(mails)
    # a clean slate on the server: an earlier run flagged every mail
    await asyncio.to_thread(account.remove_flag, HANDLED_FLAG)
    async with backend.store("email") as store:
        progress(f"{backend.name}: intake of {n} mails, MailIntake.catch_up → Intake → database")
        seconds, new, commits = await intake_run(store, cfg, mail)
        progress(f"{backend.name}: verifying every stored mail")
        stored_text, stored_ok = await verify_store(store, mails)
    flags_text, flags_ok = await verify_flags(mail.imap, n)
    ratio = fetch_s / seconds  # = (n / seconds) / (n / fetch_s)
    avg = sum(commits) / len(commits) if commits else 0.0
    lines = [
        f"== {backend.name} ({backend.where}) ==",
        f"  verified            {stored_text}",
        f"  verified            {flags_text}; catch_up reported {new} new",
        f"  intake              {seconds:8.3f} s {n / seconds:8.0f} msg/s   "
        f"fetch → parse → store → threads and cursor → flag, {mail.fetch_batch} per fetch",
        f"  writer commits      {len(commits)}, avg {avg:.1f} mails",
        f"    intake / fetch    {ratio:8.3f}",
    ]
    print("\n".join(lines), flush=True)
    return Outcome(backend.name, ratio, stored_ok and flags_ok and new == n)


def describe(mails: Sequence[SyntheticMail]) -> str:
    sizes = [len(m.raw) for m in mails]
    jis = sum(m.charset == "iso-2022-jp" for m in mails)
    return (
        f"  mails               {len(mails)} from {len({m.sender for m in mails})} senders: "
        f"{jis} ISO-2022-JP, {len(mails) - jis} UTF-8 (base64, 8 bit); "
        f"{sum(sizes) / 1024:.0f} KB, {min(sizes) / 1024:.1f}–{max(sizes) / 1024:.1f} KB each"
    )


async def measure(
    cfg: Config,
    account: MailAccount,
    mails: Sequence[SyntheticMail],
    backends: Sequence[Backend],
) -> list[Outcome]:
    n, mail = len(mails), settings_for(account)
    progress(f"baseline: plain UID FETCH of the {n} mails, best of {BASELINE_RUNS}")
    runs = [await fetch_all(mail.imap, mail.fetch_batch) for _ in range(BASELINE_RUNS)]
    fetch_s = min(seconds for seconds, _ in runs)
    if any(fetched != n for _, fetched in runs):
        counts = ", ".join(str(fetched) for _, fetched in runs)
        raise InboxError(f"bench: the baseline fetched {counts} of the {n} mails")
    print(
        f"  baseline fetch      {fetch_s:8.3f} s {n / fetch_s:8.0f} msg/s   UID SEARCH + UID "
        f"FETCH BODY.PEEK[], {mail.fetch_batch} per fetch, nothing parsed or stored",
        flush=True,
    )
    progress(f"reference: parsing the {n} mails alone, no IMAP, no database")
    parse_s = parse_all(mails, mail.max_attachment_bytes)
    print(
        f"  parse only          {parse_s:8.3f} s {n / parse_s:8.0f} msg/s   parse_mail + "
        "sort_mail, for reference: part of the intake's time",
        flush=True,
    )
    return [await bench_backend(b, cfg, mail, account, mails, fetch_s) for b in backends]


def report(outcomes: Sequence[Outcome]) -> int:
    failed = [o.backend for o in outcomes if not o.ok]
    if failed:
        print(f"tsunagu: verification failed on {', '.join(failed)}", file=sys.stderr)
        return 1
    for o in outcomes[1:]:
        print(f"intake_vs_fetch_{o.backend.lower()}={o.ratio:.3f}")
    print(f"intake_vs_fetch={outcomes[0].ratio:.3f}", flush=True)
    return 0


def run_email_bench(args: Any) -> int:
    cfg, n = load(args), int(args.messages)
    if n < 1:
        raise ValidationError("--messages must be positive", field="bench")
    try:
        server = DovecotServer(tls=False)
    except DovecotMissing as exc:
        print(f"tsunagu: {exc} (the benchmark starts its own from a temp config)", file=sys.stderr)
        return EXIT_MISSING
    try:
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(server.close)  # also on Ctrl+C: stops Dovecot, removes its dir
            tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="tsunagu-bench-"))
            try:
                server.start()
            except RuntimeError as exc:
                print(f"tsunagu: Dovecot did not start: {exc}", file=sys.stderr)
                return 1
            backends: list[Backend] = [SqliteBackend(Path(tmp), capacity=3)]
            if args.database_url:
                backends.append(PostgresBackend(args.database_url, capacity=3))
            outcomes = bench_on(server, cfg, n, backends)
    except KeyboardInterrupt:
        progress("interrupted: Dovecot stopped, temporary files removed")
        raise
    return report(outcomes)


def bench_on(
    server: DovecotServer, cfg: Config, n: int, backends: Sequence[Backend]
) -> list[Outcome]:
    progress(f"Dovecot {server.version()} on {server.host}:{server.port} in {server.dir}")
    account = server.add_user()
    mails = build_mails(n)
    append_s = append_all(account, mails)  # blocking, outside the loop: Ctrl+C stops it at once
    print(f"== e-mail intake: Dovecot at {server.host}:{server.port} ==\n{describe(mails)}")
    print(f"  appended            {append_s:8.3f} s {n / append_s:8.0f} msg/s", flush=True)
    return asyncio.run(measure(cfg, account, mails, backends))
