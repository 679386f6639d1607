"""`tsunagu`: serve, migrate, user add/list/disable/enable/set-roles/reset-password/token,
check-config, purge-bodies, bench."""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import getpass
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from inbox.app import ensure_schema, open_store, serve, utc_now
from inbox.auth import (
    API_TOKEN_PREFIX,
    MIN_PASSWORD_CHARS,
    check_password,
    hash_password,
    new_secret,
    secret_hash,
    temporary_password,
)
from inbox.command_config import load
from inbox.commands.signals import Signals
from inbox.commands.staff import StaffCommands
from inbox.config import Config
from inbox.core.errors import ConfigError, InboxError, StorageError, ValidationError
from inbox.core.model import MAX_CAPACITY, NewUser, Presence, Role
from inbox.core.report_facts import TOKYO
from inbox.logging import configure_logging, log_loop_error
from storage.base import Store

EXIT_CONFIG = 2
GC_YOUNG_THRESHOLD = 10_000  # the server's; see cmd_serve
log = logging.getLogger(__name__)


def cmd_serve(args: argparse.Namespace) -> int:
    cfg = load(args)
    configure_logging(cfg.logging.level, cfg.logging.format)
    print(
        f"Tsunagu Inbox: config {cfg.source}, database {cfg.database.display_url}", file=sys.stderr
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(log_loop_error)

        def on_signal(signum: int) -> None:
            # The first signal asks for a graceful stop; removing the handler lets a second
            # one kill the process the default way.
            stop.set()
            loop.remove_signal_handler(signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)

        def ready(url: str) -> None:
            # What start-up made (modules, config, the app) lives as long as the process: kept
            # out of every later full collection, which scanned it each time and stalled the
            # loop. Here, not in serve(): a test process runs serve() many times.
            gc.freeze()
            # A young collection every 700 allocations ran 55 times a second at 250 msg/s, and
            # pushed survivors on into full collections (6 in 12 s, up to 70 ms each, every
            # socket's loop stalled): 10,000 cut the collector's time there from 820 to 180 ms.
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
            chat = f"  相談チャット / web chat:        {url}/chat\n" if cfg.webchat.enabled else ""
            print(
                f"\n{chat}"
                f"  相談員コンソール / console:    {url}/console\n"
                f"  No accounts yet? tsunagu user add admin --role admin --role supervisor\n"
                f"  Stop with Ctrl+C.\n",
                file=sys.stderr,
                flush=True,
            )

        await serve(cfg, stop, on_ready=ready)

    asyncio.run(main())
    return 0


async def _with_store(
    cfg: Config, body: Callable[[Store], Awaitable[int]], *, migrate: bool
) -> int:
    async with AsyncExitStack() as stack:
        store = await open_store(stack, cfg.database)
        await ensure_schema(store, migrate=migrate)
        return await body(store)
    raise AssertionError("unreachable")


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = load(args)

    async def run() -> int:
        async with AsyncExitStack() as stack:
            store = await open_store(stack, cfg.database)
            before = await store.schema_version()
            applied = await store.migrate()
            print(
                f"{cfg.database.display_url}: schema version {before} -> "
                f"{before if not applied else applied[-1]}"
                f"{'' if applied else ' (already current)'}"
            )
        return 0

    return asyncio.run(run())


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Password ({MIN_PASSWORD_CHARS}+ characters): ")
    check_password(first)  # before it is typed a second time
    if getpass.getpass("Again: ") != first:
        raise ValidationError("the two entries differ", field="password")
    return first


def _commands(store: Store) -> StaffCommands:
    # No worker of the server runs here to wake: it hears of these writes through NOTIFY on
    # PostgreSQL, or within its feed's idle look on SQLite.
    return StaffCommands.build(store, clock=utc_now, signals=Signals())


async def _user_enable(args: argparse.Namespace, s: Store) -> int:
    user = await _commands(s).accounts.enable_user(args.username)
    print(f"enabled {user.username}; she can sign in again")
    return 0


async def _user_set_roles(args: argparse.Namespace, s: Store) -> int:
    roles = frozenset(Role(r) for r in args.role)
    user = await _commands(s).accounts.update_user(args.username, roles=roles)
    print(f"{user.username}: roles {', '.join(sorted(user.roles))}")
    return 0


async def _user_reset_password(args: argparse.Namespace, s: Store) -> int:
    temporary = temporary_password()
    user = await _commands(s).accounts.reset_password(args.username, hash_password(temporary))
    print(temporary)
    print(
        f"Shown once. {user.username}'s sessions have ended; she signs in with this and sets "
        "her own password at once.",
        file=sys.stderr,
    )
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    cfg = load(args)
    password_hash = ""
    if args.user_command == "add":
        # Checked before the database is opened (or created): a typo makes nothing.
        if not 0 <= args.capacity <= MAX_CAPACITY:
            raise ValidationError(f"an integer from 0 to {MAX_CAPACITY}", field="capacity")
        password_hash = hash_password(_read_password(args))

    async def add(s: Store) -> int:
        roles = frozenset(Role(r) for r in args.role)
        user = await _commands(s).accounts.create_user(
            NewUser(
                username=args.username,
                display_name=args.display_name or args.username,
                password_hash=password_hash,
                roles=roles,
                capacity=args.capacity,
                presence=Presence(args.presence),
                must_change_password=args.must_change_password,
            )
        )
        print(f"created {user.username} (id {user.id}, roles {', '.join(sorted(roles))})")
        return 0

    async def list_(s: Store) -> int:
        users = await s.list_users()
        if not users:
            print("no users yet: tsunagu user add admin --role admin --role supervisor")
        else:
            print(f"{'id':>4}  {'username':<20} {'state':<8} {'capacity':<12} roles")
        for u in users:
            state = "disabled" if u.disabled else "active"
            print(
                f"{u.id:>4}  {u.username:<20} {state:<8} {u.capacity:<12} "
                f"{', '.join(sorted(u.roles))}"
            )
        return 0

    async def disable(s: Store) -> int:
        found = await s.find_login(args.username)
        was = found is not None and found[0].disabled
        # Run again when already disabled: it also releases anything still assigned to her.
        user = await _commands(s).accounts.disable_user(args.username)
        if was:
            print(f"{user.username} was already disabled")
        else:
            print(f"disabled {user.username}; her sessions and tokens no longer work")
        return 0

    async def token(s: Store) -> int:
        found = await s.find_login(args.username)
        if found is None:
            raise ValidationError(f"no user {args.username!r}", field="username")
        secret = new_secret(API_TOKEN_PREFIX)
        await _commands(s).accounts.create_api_token(
            found[0].id, secret_hash(secret), name=args.name
        )
        print(secret)
        print("Shown once. Use it as: Authorization: Bearer <token>", file=sys.stderr)
        return 0

    bodies: dict[str, Callable[[Store], Awaitable[int]]] = {
        "add": add,
        "list": list_,
        "disable": disable,
        "enable": functools.partial(_user_enable, args),
        "set-roles": functools.partial(_user_set_roles, args),
        "reset-password": functools.partial(_user_reset_password, args),
        "token": token,
    }
    body = bodies[args.user_command]
    # Accounts live in the database: run from another folder without a config, and they land in
    # a new ./tsunagu-data that the running server never reads. Say which database, and warn.
    path = cfg.database.sqlite_path
    if path is not None and not path.exists():
        print(
            f"note: {path} does not exist yet and is created now; if the server runs elsewhere, "
            "run this from its folder or pass its --config",
            file=sys.stderr,
        )
    print(f"database: {cfg.database.display_url}", file=sys.stderr)
    return asyncio.run(_with_store(cfg, body, migrate=cfg.database.migrate_on_start))


def cmd_check_config(args: argparse.Namespace) -> int:
    cfg = load(args)
    print(
        f"{cfg.source}: OK (database {cfg.database.display_url}, "
        f"listening on {cfg.server.host}:{cfg.server.port})"
    )
    return 0


def _cutoff(args: argparse.Namespace, cfg: Config) -> datetime:
    """--before YYYY-MM-DD, else today less [retention] bodies_days: its Tokyo midnight."""
    if args.before:
        try:
            day = date.fromisoformat(args.before)
        except ValueError:
            raise ValidationError("a date as YYYY-MM-DD", field="before") from None
    elif cfg.retention.bodies_days:
        day = utc_now().astimezone(TOKYO).date() - timedelta(days=cfg.retention.bodies_days)
    else:
        raise ValidationError(
            "give --before YYYY-MM-DD, or set [retention] bodies_days", field="before"
        )
    return datetime.combine(day, time(), TOKYO).astimezone(UTC)


def cmd_purge_bodies(args: argparse.Namespace) -> int:
    cfg = load(args)
    if args.batch < 1:
        raise ValidationError("at least 1", field="batch")
    before = _cutoff(args, cfg)

    def told(done: int) -> None:
        print(f"  … {done} messages purged", file=sys.stderr, flush=True)

    async def purge(s: Store) -> int:
        purged = await _commands(s).report.purge_bodies(before, batch=args.batch, progress=told)
        print(
            f"purged the bodies of {purged} messages in conversations closed before "
            f"{before.astimezone(TOKYO).date().isoformat()} (Asia/Tokyo); the figures stay"
        )
        return 0

    print(f"database: {cfg.database.display_url}", file=sys.stderr)
    return asyncio.run(_with_store(cfg, purge, migrate=cfg.database.migrate_on_start))


def cmd_bench(args: argparse.Namespace) -> int:
    if args.bench_command == "report":
        from inbox.tools.bench_grant_report import run_grant_report_bench

        return asyncio.run(run_grant_report_bench(args))
    if args.bench_command == "routing":
        from inbox.tools.bench_routing import run_routing_bench

        return run_routing_bench(args)
    if args.bench_command == "round":
        from inbox.tools.bench_round import run_round_bench

        return asyncio.run(run_round_bench(args))
    if args.bench_command == "sockets":
        from inbox.tools.bench_sockets import run_sockets_bench

        return run_sockets_bench(args)  # reads /proc first, then runs its own event loop
    if args.bench_command == "email":
        from inbox.tools.bench_email import run_email_bench

        return run_email_bench(args)  # runs its own event loop, after the blocking APPENDs
    if args.bench_command == "board":
        from inbox.tools.bench_board import run_board_bench

        return run_board_bench(args)  # runs its own event loop, around two server processes
    if args.bench_command == "load":
        from inbox.tools.bench_load import run_load_bench

        return run_load_bench(args)  # runs its own event loop, around servers and a generator
    if args.bench_command == "webhook":
        from inbox.tools.bench_webhook import run_webhook_bench

        return run_webhook_bench(args)  # runs its own event loop, around a server process
    if args.bench_command == "search":
        from inbox.tools.bench_search import run_search_bench

        return asyncio.run(run_search_bench(args))
    from inbox.tools.bench_pipeline import run_pipeline_bench

    return asyncio.run(run_pipeline_bench(args))


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        help="config.toml (default: $TSUNAGU_CONFIG, ./config.toml, else built-in defaults)",
    )
    p = argparse.ArgumentParser(prog="tsunagu", description="Tsunagu Inbox (つなぐ)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", parents=[common], help="run the server")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", parents=[common], help="apply database migrations").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser(
        "check-config", parents=[common], help="validate the configuration"
    ).set_defaults(func=cmd_check_config)

    pb = sub.add_parser(
        "purge-bodies",
        parents=[common],
        help="empty the bodies of messages in conversations closed before a day (retention); "
        "the report's figures stay",
    )
    pb.add_argument(
        "--before",
        help="YYYY-MM-DD, a Tokyo day (default: today less [retention] bodies_days)",
    )
    pb.add_argument(
        "--batch", type=int, default=5000, help="messages per transaction (default: %(default)s)"
    )
    pb.set_defaults(func=cmd_purge_bodies)

    u = sub.add_parser("user", help="manage staff accounts")
    usub = u.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", parents=[common], help="create an account")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name")
    add.add_argument("--capacity", type=int, default=3)
    add.add_argument(
        "--presence",
        choices=[p.value for p in Presence],
        default=Presence.OFFLINE.value,
        help="where a counselor starts (default: %(default)s; she sets it when she signs in)",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    add.add_argument(
        "--must-change-password",
        action="store_true",
        help="she sets her own password at her first sign-in (for a password you chose for her)",
    )
    usub.add_parser("list", parents=[common], help="list accounts")
    dis = usub.add_parser("disable", parents=[common], help="disable an account")
    dis.add_argument("username")
    ena = usub.add_parser("enable", parents=[common], help="enable a disabled account again")
    ena.add_argument("username")
    rol = usub.add_parser("set-roles", parents=[common], help="replace an account's roles")
    rol.add_argument("username")
    rol.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    rst = usub.add_parser(
        "reset-password",
        parents=[common],
        help="a temporary password (printed once); she sets her own at her next sign-in",
    )
    rst.add_argument("username")
    tok = usub.add_parser("token", parents=[common], help="issue an API token (printed once)")
    tok.add_argument("username")
    tok.add_argument("--name", default="cli")
    u.set_defaults(func=cmd_user)

    b = sub.add_parser("bench", help="benchmarks")
    bsub = b.add_subparsers(dest="bench_command", required=True)
    bp = bsub.add_parser(
        "pipeline", parents=[common], help="intake → store → assign throughput and latency"
    )
    bp.add_argument("--database-url", help="also run on this PostgreSQL database")
    bp.add_argument("-n", "--messages", type=int, default=5000, help="(default: %(default)s)")
    bp.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="offered load for the latency run, messages per second (default: %(default)s)",
    )
    bp.add_argument(
        "--delivery",
        type=int,
        default=100,
        help="messages per delivery in the main throughput run (an IMAP fetch, a webhook; "
        "default: %(default)s)",
    )
    br = bsub.add_parser("routing", help="the pure router's decisions against a plain sort")
    br.add_argument("--conversations", type=int, default=10_000, help="(default: %(default)s)")
    br.add_argument("--counselors", type=int, default=200, help="(default: %(default)s)")
    bo = bsub.add_parser("round", help="one router round over a full desk, part by part")
    bo.add_argument(
        "--capacity", type=int, default=50, help="each of 50 counselors' (default: %(default)s)"
    )
    bo.add_argument("--waiting", type=int, default=7_500, help="(default: %(default)s)")
    bo.add_argument(
        "--burst", type=int, default=1_000, help="arrivals, 1 ms apart (default: %(default)s)"
    )
    bo.add_argument("--database-url", help="also run on this PostgreSQL database")
    be = bsub.add_parser(
        "email",
        parents=[common],
        help="mail from a throwaway Dovecot into the database, against a plain IMAP FETCH",
    )
    be.add_argument("--database-url", help="also run on this PostgreSQL database")
    be.add_argument("-n", "--messages", type=int, default=2000, help="(default: %(default)s)")
    bs = bsub.add_parser(
        "sockets", help="memory per open socket; never-reading sockets against others' acks"
    )
    bs.add_argument("--consulters", type=int, default=5000, help="idle (default: %(default)s)")
    bs.add_argument("--staff", type=int, default=500, help="idle (default: %(default)s)")
    bs.add_argument("--slow", type=int, default=50, help="never reading (default: %(default)s)")
    bs.add_argument("--normal", type=int, default=200, help="timed (default: %(default)s)")
    bs.add_argument(
        "--rate", type=float, default=100.0, help="their msg/s in all (default: %(default)s)"
    )
    bs.add_argument("--seconds", type=float, default=10.0, help="per run (default: %(default)s)")
    bq = bsub.add_parser(
        "search",
        help="text search and a consulter's timeline over a large desk, against a look-up by id",
    )
    bq.add_argument("--database-url", help="also run on this PostgreSQL database")
    bq.add_argument("--conversations", type=int, default=100_000, help="(default: %(default)s)")
    bq.add_argument("--messages", type=int, default=1_000_000, help="(default: %(default)s)")
    bq.add_argument(
        "--calls", type=int, default=300, help="timed calls of each kind (default: %(default)s)"
    )
    bb = bsub.add_parser(
        "board",
        help="supervisors' live board: stored message to board frame, against no supervisor",
    )
    bb.add_argument("--database-url", help="also run on this PostgreSQL server")
    bb.add_argument("--counselors", type=int, default=50, help="(default: %(default)s)")
    bb.add_argument("--supervisors", type=int, default=5, help="(default: %(default)s)")
    bb.add_argument(
        "--capacity", type=int, default=2, help="each counselor's, all taken (default: %(default)s)"
    )
    bb.add_argument(
        "--waiting", type=int, default=500, help="conversations waiting (default: %(default)s)"
    )
    bb.add_argument(
        "--rate", type=float, default=200.0, help="new messages per second (default: %(default)s)"
    )
    bb.add_argument("--seconds", type=float, default=10.0, help="per run (default: %(default)s)")
    bb.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs of each kind, alternating, pooled (default: %(default)s)",
    )
    bl = bsub.add_parser(
        "load",
        help="national-scale load: ack, push to staff and reply latency per rate, servers' CPU "
        "and RSS, lost or doubled events; one PostgreSQL instance against several",
    )
    bl.add_argument(
        "--database-url", help="also run on this PostgreSQL server (1 instance, then --instances)"
    )
    bl.add_argument(
        "--instances", type=int, default=2, help="on PostgreSQL, after one (default: %(default)s)"
    )
    bl.add_argument(
        "--staff",
        type=int,
        default=200,
        help="counselors signed in, each with her console's socket (default: %(default)s)",
    )
    bl.add_argument(
        "--capacity", type=int, default=5, help="each counselor's, all taken (default: %(default)s)"
    )
    bl.add_argument(
        "--consulters", type=int, default=500, help="web-chat sockets (default: %(default)s)"
    )
    bl.add_argument(
        "--open",
        type=int,
        default=10_000,
        help="open conversations, the consulters' included; those no counselor holds wait "
        "(default: %(default)s)",
    )
    bl.add_argument(
        "--rates",
        default="100,250,500,750,1000",
        help="messages per second, one after the other (default: %(default)s)",
    )
    bl.add_argument("--seconds", type=float, default=5.0, help="per rate (default: %(default)s)")
    bl.add_argument(
        "--reply-share",
        type=float,
        default=0.1,
        help="replies by counselors per message offered (default: %(default)s)",
    )
    bl.add_argument(
        "--baseline-open",
        type=int,
        default=1000,
        help="open conversations of the baseline, measured first at the lowest rate "
        "(default: %(default)s)",
    )
    bw = bsub.add_parser(
        "webhook",
        help="signed SMS or LINE webhooks at rising rates: stored-and-answered latency, against "
        "web chat",
    )
    bw.add_argument(
        "--channel",
        choices=("sms", "line"),
        default="sms",
        help="whose webhook: Twilio's SMS, or LINE's with 1 to 20 events per request "
        "(default: %(default)s)",
    )
    bw.add_argument(
        "--rates",
        help="requests per second (default: 50,100,200,400,800 for sms, 10,25,50,100 for line)",
    )
    bw.add_argument("--seconds", type=float, default=3.0, help="per rate (default: %(default)s)")
    bw.add_argument(
        "--consulters", type=int, default=50, help="web-chat sockets (default: %(default)s)"
    )
    bg = bsub.add_parser(
        "report",
        help="the grant report of a fiscal year over a large desk, against a count(*) of messages",
    )
    bg.add_argument("--database-url", help="also run on this PostgreSQL database")
    bg.add_argument("--conversations", type=int, default=100_000, help="(default: %(default)s)")
    bg.add_argument("--messages", type=int, default=1_000_000, help="(default: %(default)s)")
    bg.add_argument("--referrals", type=int, default=20_000, help="(default: %(default)s)")
    bg.add_argument("--activities", type=int, default=5_000, help="(default: %(default)s)")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"tsunagu: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (StorageError, ValidationError, InboxError) as exc:
        print(f"tsunagu: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001  a bug, or a failure no command answers on purpose
        report_crash(exc)
        return 1
    return code


def report_crash(exc: BaseException) -> None:
    """Log what stopped the command through our formatter, not Python's report: that one
    prints the messages of chained driver errors, which may quote bodies or addresses."""
    if not logging.getLogger().handlers:  # only `serve` configures logging
        configure_logging("INFO", "text")
    log.critical("stopped by an error", exc_info=exc, extra={"action": "crashed"})


if __name__ == "__main__":
    sys.exit(main())
