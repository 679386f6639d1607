"""Composition root: builds the store, intake, router, outbox and web server from the config,
runs them in one TaskGroup, and shuts down in order: stop intake, drain, cancel, close."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web

from channels.base import Channel
from channels.mail import MailChannel, MailIntake, MailSettings
from channels.mail_imap import ImapSettings
from channels.mail_smtp import SmtpSettings
from channels.webchat import WebChatChannel
from inbox.autoreply import AutoReplier
from inbox.config import Config, DatabaseConfig
from inbox.deadlines import DeadlineWatcher
from inbox.errors import DatabaseUnavailable, SchemaMismatch
from inbox.identity import load_identity_key
from inbox.mail_config import MailConfig
from inbox.model import ChannelKind
from inbox.outbox import OutboxSender
from inbox.pipeline import Intake, Stored
from inbox.router import Router
from inbox.web.api import event_json
from inbox.web.hub import Hub
from inbox.web.server import Services, WebSettings, build_app
from inbox.web.sockets import STAFF
from routing.assign import RoutingPolicy
from routing.rules import labeler
from storage.base import SCHEMA_VERSION, Store
from storage.postgres import PostgresStore
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_store(cfg: DatabaseConfig) -> Store:
    if cfg.backend == "postgres":
        return PostgresStore(cfg.url, pool_min=cfg.pool_min, pool_max=cfg.pool_max)
    path = cfg.sqlite_path
    assert path is not None, "the config loader resolves database.url"
    return SqliteStore(path)


async def open_store(stack: AsyncExitStack, cfg: DatabaseConfig) -> Store:
    """Connect with capped backoff: a database that is still starting is not an error yet."""
    delay_s = 0.5
    for attempt in range(1, cfg.connect_attempts + 1):
        try:
            return await stack.enter_async_context(build_store(cfg))
        except DatabaseUnavailable as exc:
            if attempt == cfg.connect_attempts:
                raise
            log.warning(
                f"database unreachable, retrying in {delay_s:.1f} s: {exc}",
                extra={"action": "database_retry", "attempt": attempt, "of": cfg.connect_attempts},
            )
            await asyncio.sleep(delay_s)
            delay_s = min(cfg.connect_backoff_max_s, delay_s * 2)
    raise AssertionError("unreachable")


async def ensure_schema(store: Store, *, migrate: bool) -> None:
    version = await store.schema_version()
    if version > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the database schema is version {version}, newer than this code "
            f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
        )
    if version < SCHEMA_VERSION:
        if not migrate:
            raise SchemaMismatch(
                f"the database schema is version {version}, this code needs {SCHEMA_VERSION}; "
                "run `tsunagu migrate` (or set database.migrate_on_start = true)"
            )
        applied = await store.migrate()
        log.info("schema migrated", extra={"action": "schema_migrated", "versions": applied})


class EventFeed:
    """Tails the event log and pushes each new event's ids (never bodies) to staff sockets."""

    def __init__(self, store: Store, hub: Hub) -> None:
        self._store = store
        self._hub = hub
        self._wake = asyncio.Event()
        self._last_id = 0

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self._last_id = await self._store.last_event_id()  # sockets get news, not history
        while True:
            await self._wake.wait()
            self._wake.clear()
            while events := await self._store.list_events(after_id=self._last_id, limit=500):
                for event in events:
                    self._hub.push(STAFF, {"type": "event", "event": event_json(event)})
                self._last_id = events[-1].id


def build_mail_settings(cfg: MailConfig) -> MailSettings:
    return MailSettings(
        imap=ImapSettings(
            host=cfg.imap_host,
            port=cfg.imap_port,
            security=cfg.imap_security,
            username=cfg.imap_username,
            password=cfg.imap_password,
            folder=cfg.imap_folder,
        ),
        smtp=SmtpSettings(
            host=cfg.smtp_host,
            port=cfg.smtp_port,
            security=cfg.smtp_security,
            username=cfg.smtp_username or None,
            password=cfg.smtp_password or None,
        ),
        address=cfg.address,
        from_name=cfg.from_name,
        domain=cfg.domain or cfg.address.rpartition("@")[2],
        charset=cfg.charset,
        mark=cfg.mark,
        max_attachment_bytes=cfg.max_attachment_bytes,
        neutral_name=cfg.neutral_name,
        neutral_subject=cfg.neutral_subject,
        default_subject=cfg.default_subject,
    )


def web_settings(cfg: Config) -> WebSettings:
    return WebSettings(
        base_url=cfg.server.base_url,
        secure_cookies=cfg.server.cookies_secure,
        session_ttl_h=cfg.server.session_ttl_h,
        max_body_bytes=cfg.server.max_body_bytes,
        allowed_origins=cfg.server.allowed_origins,
        max_message_chars=cfg.intake.max_message_chars,
        heartbeat_s=cfg.webchat.heartbeat_s,
        webchat_enabled=cfg.webchat.enabled,
        anonymity=cfg.privacy.anonymity,
        reveal_roles=cfg.privacy.reveal_roles,
    )


@asynccontextmanager
async def web_server(
    app: web.Application,
    host: str,
    port: int,
) -> AsyncIterator[web.AppRunner]:
    runner = web.AppRunner(app, access_log=None)  # access lines would carry ids in URLs only
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield runner
    finally:
        await runner.cleanup()


def bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the server is not listening")


async def serve(
    cfg: Config,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[str], None] = lambda _: None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run until `stop` is set, then drain and close. `on_ready` gets the URL once listening."""
    async with AsyncExitStack() as stack:
        store = await open_store(stack, cfg.database)
        await ensure_schema(store, migrate=cfg.database.migrate_on_start)
        key = load_identity_key(
            cfg.security.identity_key, cfg.data.dir, env_name=cfg.security.identity_key_env
        )
        staff_hub = Hub(client_queue=cfg.webchat.client_queue)
        chat_hub = Hub(client_queue=cfg.webchat.client_queue)
        channels: dict[ChannelKind, Channel] = {}
        webchat = await stack.enter_async_context(WebChatChannel(chat_hub))
        channels[webchat.kind] = webchat
        mail_settings = build_mail_settings(cfg.mail) if cfg.mail.enabled else None
        if mail_settings is not None:
            channels[ChannelKind.MAIL] = MailChannel(mail_settings, store)

        feed = EventFeed(store, staff_hub)
        policy = RoutingPolicy(
            continuity_days=cfg.routing.continuity_days,
            continuity_wait_s=cfg.routing.continuity_wait_s,
            urgent_priority=cfg.routing.urgent.priority,
        )

        def replies_queued() -> None:
            outbox.wake()
            feed.poke()

        replier = AutoReplier(
            store,
            texts=cfg.routing.replies,
            hours_for=cfg.routing.hours_for,
            clock=clock,
            on_queued=replies_queued,
        )
        targets = dataclasses.replace(
            cfg.routing.targets, urgent_priority=cfg.routing.urgent.priority
        )

        def alarmed(_: object) -> None:
            router.wake()  # an escalated conversation may be back in the queue
            feed.poke()

        watcher = DeadlineWatcher(
            store,
            targets=targets,
            hours_for=cfg.routing.hours_for,
            clock=clock,
            on_alarm=alarmed,
        )
        router = Router(
            store,
            clock=clock,
            on_assigned=lambda _: feed.poke(),
            policy=policy,
            offer_timeout_s=cfg.routing.offer_timeout_s,
            on_lapsed=lambda _: feed.poke(),
            hours_for=cfg.routing.hours_for,
            on_round=replier.routed,
        )

        def other_instance(needs_routing: bool) -> None:
            """Another process on the same PostgreSQL wrote events: show them, and route."""
            feed.poke()
            if needs_routing:
                router.wake()

        def stored(answers: Sequence[Stored]) -> None:
            if any(not a.duplicate for _, a in answers):
                router.wake()
                replier.stored(answers)
                feed.poke()

        intake = Intake(
            store,
            key,
            queue_max=cfg.intake.queue_max,
            batch_max=cfg.intake.batch_max,
            ack_timeout_s=cfg.intake.ack_timeout_s,
            on_stored=stored,
            label=labeler(cfg.routing.rules, cfg.routing.urgent, cfg.routing.timezone),
        )
        outbox = OutboxSender(
            store,
            channels,
            clock=clock,
            batch=cfg.outbox.batch,
            max_attempts=cfg.outbox.max_attempts,
            backoff_base_s=cfg.outbox.backoff_base_s,
            backoff_max_s=cfg.outbox.backoff_max_s,
            lease_s=cfg.outbox.lease_s,
            send_timeout_s=cfg.outbox.send_timeout_s,
            on_change=feed.poke,
        )
        services = Services(
            store=store,
            intake=intake,
            router=router,
            outbox=outbox,
            staff_hub=staff_hub,
            chat_hub=chat_hub,
            clock=clock,
            settings=web_settings(cfg),
            on_event=feed.poke,
        )
        async with asyncio.TaskGroup() as tg:
            # the writer, router and outbox outlive intake so that accepted work can finish
            workers = [
                tg.create_task(intake.run_writer(), name="intake-writer"),
                tg.create_task(router.run(), name="router"),
                tg.create_task(outbox.run(), name="outbox"),
                tg.create_task(feed.run(), name="event-feed"),
                tg.create_task(replier.run(), name="auto-replies"),
                tg.create_task(watcher.run(), name="deadlines"),
                tg.create_task(store.listen(other_instance), name="listen"),
            ]
            intakes = []  # pull channels: stopped first at shutdown, so nothing new comes in
            if mail_settings is not None:
                mail_intake = MailIntake(mail_settings, intake, store, clock=clock)
                intakes.append(tg.create_task(mail_intake.run(), name="mail-intake"))
            async with web_server(build_app(services), cfg.server.host, cfg.server.port) as runner:
                url = f"http://{cfg.server.host}:{bound_port(runner)}"
                log.info(f"listening on {url}", extra={"action": "server_listening", "url": url})
                on_ready(url)
                await stop.wait()
                log.info("stopping intake", extra={"action": "shutdown_started"})
                for task in intakes:
                    task.cancel()
                intake.close()
            left = await intake.drain(cfg.shutdown.drain_s)
            await _final_round(router, replier, outbox, cfg.shutdown.drain_s)
            for task in workers:
                task.cancel()
        log.info("stopped", extra={"action": "shutdown_complete", "intake_left": left})


async def _final_round(
    router: Router, replier: AutoReplier, outbox: OutboxSender, timeout_s: float
) -> None:
    """Route what the drain stored and send what is due, so a restart finds little to redo."""
    try:
        async with asyncio.timeout(timeout_s):
            await router.route_once()
            await replier.send_pending()
            await outbox.send_due()
    except TimeoutError:
        log.warning("final round cut short", extra={"action": "shutdown_timeout"})
