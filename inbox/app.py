"""Composition root: builds the store, intake, router, outbox and web server from the config,
runs them in one TaskGroup, and shuts down in order: stop intake, drain, cancel, close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

from inbox.assembly import Parts, assemble
from inbox.config import Config, DatabaseConfig
from inbox.core.errors import DatabaseUnavailable, SchemaMismatch, StorageError
from inbox.identity import load_identity_key
from inbox.web.application import build_app
from storage.base import SCHEMA_VERSION, Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_REQUEST_LINE = 32 * 1024  # bytes; aiohttp's default is 8190


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_store(cfg: DatabaseConfig) -> Store:
    if cfg.backend == "postgres":
        return PostgresStore(
            cfg.url,
            pool_min=cfg.pool_min,
            pool_max=cfg.pool_max,
            command_timeout_s=cfg.command_timeout_s,
        )
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


async def unless_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s result, or None when `stop` is set first: then `work` is cancelled and awaited.
    Start-up may wait long (connection retries, a migration lock held by another instance),
    and SIGTERM must end it. Plain tasks rather than a TaskGroup, which would wrap start-up's
    own errors (DatabaseUnavailable, SchemaMismatch) in an ExceptionGroup; both tasks are
    awaited before this returns."""
    working = asyncio.create_task(work, name="start-up")
    stopping = asyncio.create_task(stop.wait(), name="start-up-stop")
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not working.done():
            working.cancel()
        await asyncio.wait({working, stopping})
    if working.cancelled():
        return None
    return working.result()


@asynccontextmanager
async def web_server(
    app: web.Application,
    host: str,
    port: int,
) -> AsyncIterator[web.AppRunner]:
    # access lines would carry ids in URLs only. A request line up to MAX_REQUEST_LINE: the
    # documented query limits (several 200-character filters, percent-encoded: up to 12 bytes a
    # character) fit, so such a request gets our JSON error naming the field, not aiohttp's
    # plain-text "line too long" from before any handler runs.
    runner = web.AppRunner(app, access_log=None, max_line_size=MAX_REQUEST_LINE)
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
        parts = await unless_stopped(stop, _start(cfg, stack, clock))
        if parts is None:
            log.info("stopped during start-up", extra={"action": "shutdown_complete"})
            return
        async with asyncio.TaskGroup() as tg:
            # the writer, router and outbox outlive intake so that accepted work can finish
            workers = [tg.create_task(job, name=name) for name, job in parts.workers()]
            # pull channels: stopped first at shutdown, so that nothing new comes in
            pulls = [tg.create_task(job, name=name) for name, job in parts.pull_intakes()]
            app = build_app(parts.services)
            async with web_server(app, cfg.server.host, cfg.server.port) as runner:
                url = f"http://{cfg.server.host}:{bound_port(runner)}"
                log.info(f"listening on {url}", extra={"action": "server_listening", "url": url})
                on_ready(url)
                await stop.wait()
                log.info("stopping intake", extra={"action": "shutdown_started"})
                for task in pulls:
                    task.cancel()
                parts.intake.close()
            left = await parts.intake.drain(cfg.shutdown.drain_s)
            await _final_round(parts, cfg.shutdown.drain_s)
            for task in workers:
                task.cancel()
        log.info("stopped", extra={"action": "shutdown_complete", "intake_left": left})


async def _start(cfg: Config, stack: AsyncExitStack, clock: Callable[[], datetime]) -> Parts:
    store = await open_store(stack, cfg.database)
    await ensure_schema(store, migrate=cfg.database.migrate_on_start)
    key = load_identity_key(
        cfg.security.identity_key, cfg.data.dir, env_name=cfg.security.identity_key_env
    )
    parts = await assemble(cfg, store, key, stack=stack, clock=clock)
    await parts.feed.start()  # before the server listens: every request's change is news
    return parts


async def _final_round(parts: Parts, timeout_s: float) -> None:
    """Route what the drain stored and send what is due, so a restart finds little to redo."""
    try:
        async with asyncio.timeout(timeout_s):
            if parts.router.leading.is_set():  # one router at a time, to the end
                await parts.router.route_once()
            await parts.replier.send_pending()
            await parts.outbox.send_due()
    except TimeoutError:
        log.warning("final round cut short", extra={"action": "shutdown_timeout"})
    except StorageError:
        # Stopping during an outage: what was not routed or sent is found again at the next
        # start (unrouted conversations, due outbox rows, missed after-hours replies).
        log.warning(
            "final round skipped: database unavailable", extra={"action": "shutdown_db_unavailable"}
        )
