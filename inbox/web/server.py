"""What every handler shares: the services it reaches (SERVICES), error answers, request data.

The application that registers the handlers is inbox.web.application.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

from aiohttp import web

from channels.line import LineChannel
from inbox.casework_config import CaseworkConfig
from inbox.commands.calls import CallCommands
from inbox.commands.follow_ups import FollowUpCommands
from inbox.commands.signals import Signals
from inbox.commands.staff import StaffCommands
from inbox.commands.voice import CallPlacer, VoiceCommands
from inbox.config import WebchatConfig
from inbox.core.errors import (
    Conflict,
    DuplicateKey,
    InboxError,
    IntakeBusy,
    LastAdmin,
    NotFound,
    OwnAccount,
    PermissionDenied,
    ReplyCollision,
    StorageError,
    TooLarge,
    ValidationError,
)
from inbox.core.labels import Label
from inbox.core.model import ChannelKind, Role, UserId
from inbox.core.tags import TagBook
from inbox.core.text import storable_json
from inbox.line_config import LineConfig
from inbox.line_friends import LineFriendsWatch
from inbox.line_quota import LineQuotaWatch
from inbox.logging import request_id_var
from inbox.outbox import OutboxSender
from inbox.outcomes import DEFAULT_OUTCOMES
from inbox.phone_config import PhoneConfig
from inbox.pipeline import Intake
from inbox.presence import PresenceKeeper
from inbox.privacy import DEFAULT_REVEAL_ROLES, AnonymityPolicy
from inbox.report_config import ReportConfig
from inbox.resilience import Outages
from inbox.router import Router
from inbox.sms_config import SmsConfig, VoiceConfig
from inbox.survey import SurveyDesk
from inbox.throttle import SignInGuard
from inbox.web.hub import STAFF, Audience, Hub
from routing.hours import ALWAYS_OPEN, TOKYO, ServiceHours
from storage.base import Store
from storage.roles import AccountStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSettings:
    base_url: str
    secure_cookies: bool
    session_ttl_h: int
    max_body_bytes: int
    allowed_origins: tuple[str, ...]
    max_message_chars: int
    heartbeat_s: float
    webchat_enabled: bool
    anonymity: AnonymityPolicy = field(default_factory=AnonymityPolicy)
    tags: TagBook = field(default_factory=TagBook)  # [desk]: the tags and labels' words
    webchat_hours: ServiceHours = ALWAYS_OPEN  # shown in her chat; she is told before writing
    reveal_roles: frozenset[Role] = DEFAULT_REVEAL_ROLES
    webchat: WebchatConfig = field(default_factory=WebchatConfig)  # the chat socket's limits
    outcomes: tuple[Label, ...] = DEFAULT_OUTCOMES  # what closing may choose
    timezone: ZoneInfo = TOKYO  # the program's days, for searching by date
    short_query_recent_messages: int = 20000  # how far back a one- or two-character word looks
    disconnect_grace_s: float = 120.0  # routing.disconnect_grace_s (inbox.presence)
    # The urgency categories of triage, in its order: a conversation's urgency is the first
    # of them among its tags.
    urgency_categories: tuple[str, ...] = ("suicide_risk", "immediate_danger")
    # --- board: the response target today's waits are held against, how near a deadline is
    # "soon" (the warning's share of the target), and the priority at which one is urgent
    response_target_s: float = 3600.0
    due_soon_s: float = 720.0
    urgent_priority: int = 100
    # --- SMS and the phone desk (issue 15): Twilio's numbers, tokens and limits
    sms: SmsConfig = field(default_factory=SmsConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    phone: PhoneConfig = field(default_factory=PhoneConfig)  # outcomes, referrals, retry rule
    phone_hours: ServiceHours = ALWAYS_OPEN  # [routing.hours.phone]: a callback's default window
    line: LineConfig = field(default_factory=LineConfig)  # issue 16: the LINE official account
    # --- issue 17: the grant report's k, unit and targets; casework's topics (which the
    # console offers and the report counts by)
    report: ReportConfig = field(default_factory=ReportConfig)
    casework: CaseworkConfig = field(default_factory=CaseworkConfig)


@dataclass(slots=True)
class StaffNames:
    """Staff display names by id, read at most once a `ttl_s`: every console asks for the queue
    after every round of events, and JSON names people instead of showing ids. A renamed
    account may show its old name for that long."""

    ttl_s: float = 2.0
    _names: Mapping[UserId, str] | None = None
    _read_at: float = 0.0
    # Moves when a reread finds other names: the queue page cached with the old ones is stale.
    version: int = 0

    _reading: asyncio.Task[None] | None = None

    async def get(self, store: AccountStore) -> Mapping[UserId, str]:
        now = time.monotonic()
        if self._names is None or now - self._read_at > self.ttl_s:
            # one read for every request that finds them old at once (200 consoles after an
            # event frame), not one each
            if self._reading is None:
                self._reading = asyncio.create_task(self._read(store, now))
                self._reading.add_done_callback(self._read_done)
            await asyncio.shield(self._reading)
        assert self._names is not None
        return self._names

    def _read_done(self, task: asyncio.Task[None]) -> None:
        """The next request after a read reads again if it must (also when every waiter of
        this one went away before it ended, or it failed: its error was theirs)."""
        if self._reading is task:
            self._reading = None
        if not task.cancelled():
            task.exception()  # retrieved: not "never retrieved" in the log

    async def _read(self, store: AccountStore, now: float) -> None:
        names = await store.display_names()
        if names != self._names:
            self._names = names
            self.version += 1
        self._read_at = now


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    store: Store
    intake: Intake
    router: Router
    outbox: OutboxSender
    staff_hub: Hub
    chat_hub: Hub
    clock: Callable[[], datetime]
    settings: WebSettings
    on_event: Callable[[], None]  # something was written to the event log: tell the sockets
    outages: Outages = field(default_factory=Outages)  # workers waiting out a database failure
    sign_in: SignInGuard = field(default_factory=SignInGuard)  # hashing slots, failure counts
    names: StaffNames = field(default_factory=StaffNames)  # display names, briefly cached
    placer: CallPlacer | None = None  # Twilio's REST API for click-to-call; [voice] enabled
    line: LineChannel | None = None  # LINE's API: content, quota, typing, profiles; [line] on
    # The follow-up watcher's wake-up (inbox.follow_ups): a follow-up set for today is due now.
    on_follow_up: Callable[[], None] = lambda: None
    surveys: SurveyDesk | None = None  # [survey]: the question at close and its answers
    # The staff feed's count of news (inbox.feed.EventFeed.news), which keys the queue page
    # (inbox.web.queue_page); None without a feed: the page is built for every request.
    news: Callable[[], int] | None = None
    # Every write on staff's behalf, waking the router, outbox and sockets as its events say.
    commands: StaffCommands = field(init=False)
    # The phone desk's writes (calls, callbacks): they key her number as intake does.
    calls: CallCommands = field(init=False)
    # Follow-ups (近況確認): set, cancelled, resolved; days read in the program's zone.
    follow_ups: FollowUpCommands = field(init=False)
    # Twilio Voice: its webhooks' calls and the desk's calls out (click-to-call).
    voice: VoiceCommands = field(init=False)
    # This instance's staff sockets and the presence that follows them (run as a worker).
    presence: PresenceKeeper = field(init=False)
    # The supervisors' staff sockets in this instance: the board is pushed to them alone.
    supervisors: Audience = field(init=False)
    # LINE's monthly quota for the board, asked at most once every 5 minutes; None: LINE off.
    line_quota: LineQuotaWatch | None = field(init=False)
    # LINE friends added and lost today and this month, counted at most every 5 minutes; None: off.
    line_friends: LineFriendsWatch | None = field(init=False)

    def __post_init__(self) -> None:
        signals = Signals(
            router=self.router.wake,
            outbox=self.outbox.wake,
            feed=self.on_event,
            follow_ups=self.on_follow_up,
        )
        commands = StaffCommands.build(
            self.store,
            clock=self.clock,
            signals=signals,
            surveys=self.surveys,
            timezone=self.settings.timezone,
        )
        object.__setattr__(self, "commands", commands)  # frozen: set once, here
        calls = CallCommands(
            self.store,
            clock=self.clock,
            signals=signals,
            identity_of=self.intake.identity_of,
            phone=self.settings.phone,
            region=self.settings.sms.default_region,
            timezone=self.settings.timezone,
            hours=self.settings.phone_hours,
        )
        object.__setattr__(self, "calls", calls)
        follow_ups = FollowUpCommands(
            self.store, clock=self.clock, signals=signals, timezone=self.settings.timezone
        )
        object.__setattr__(self, "follow_ups", follow_ups)
        voice = VoiceCommands(
            self.store,
            clock=self.clock,
            signals=signals,
            calls=calls,
            placer=self.placer,
            dial_timeout_s=self.settings.voice.api_timeout_s,
        )
        object.__setattr__(self, "voice", voice)
        keeper = PresenceKeeper(
            commands.counselors, grace_s=self.settings.disconnect_grace_s, outages=self.outages
        )
        object.__setattr__(self, "presence", keeper)
        object.__setattr__(self, "supervisors", Audience(self.staff_hub, STAFF))
        watch = None
        if self.line is not None:
            watch = LineQuotaWatch(
                self.line.quota,
                clock=self.clock,
                warn_percent=self.settings.line.quota_warn_percent,
            )
        object.__setattr__(self, "line_quota", watch)
        friends = None
        if self.line is not None:
            store, tz = self.store, self.settings.timezone
            friends = LineFriendsWatch(
                lambda start, end: store.friends_by_day(ChannelKind.LINE, start, end, tz),
                clock=self.clock,
                tz=tz,
            )
        object.__setattr__(self, "line_friends", friends)


SERVICES = web.AppKey("services", Services)


# Every code an ApiError may carry: stable, so a client can say each in its user's language
# (the console: i18n.js "error.code.<code>"); the message is the server's own English.
ERROR_CODES: dict[str, str] = {
    "validation": "a field is malformed; `field` names it",
    "too_large": "the body or a field is over its limit",
    "unauthenticated": "not signed in, or an unknown token",
    "bad_credentials": "wrong username or password",
    "too_many_attempts": "too many failed sign-ins; retry after Retry-After seconds",
    "csrf": "a cookie-authenticated change without the CSRF header",
    "origin": "a websocket from an origin not allowed",
    "forbidden": "the role does not allow this",
    "not_found": "no such thing, or not visible to you",
    "conflict": "the state changed meanwhile, or the key is taken",
    "reply_collision": "another staff member replied after the last message you saw; `authors`",
    "busy": "the intake or the sign-in is busy; retry after Retry-After seconds",
    "database": "the database is unavailable; retry after Retry-After seconds",
    # --- accounts: admins manage accounts; a password an admin set must be changed
    "password_change_required": "an admin set your password: set a new one first",
    "own_account": "an admin cannot disable herself or remove her own admin role",
    "last_admin": "this would leave no enabled admin",
    # --- Twilio's webhooks (inbox.web.twilio_auth)
    "twilio_signature": "the X-Twilio-Signature header is missing or does not match the request",
    # --- LINE's webhook (inbox.web.line_hooks)
    "line_signature": "the X-Line-Signature header is missing or does not match the body",
    # --- Twilio Voice's click-to-call (inbox.web.voice_hooks)
    "voice_not_configured": "click-to-call needs Twilio Voice ([voice] enabled)",
    "no_phone_number": "the conversation has no phone number to call",
    "outside_call_window": "her call window does not allow a call now; `next_allowed`",
    "call_failed": "Twilio refused the call or could not be reached; it is logged as failed",
    # --- the phone desk's callbacks (inbox.web.calls)
    "number_of_other_consulter": "this number belongs to another consulter's record; ask a"
    " supervisor to link them first",
    "callback_taken": "another staff member has this callback (assigned or offered to her);"
    " only she or a supervisor may dial it or log its tries",
    "call_timeout": "Twilio did not answer in time; the call is logged as failed",
    # --- casework (inbox.web.casework)
    "withheld_call": "a withheld call has no contact to keep her age group on",
}


class ApiError(web.HTTPException):
    """An error answered as `{"error": {"code", "message", "field"?}}`; the code is one of
    ERROR_CODES."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"ApiError code {code!r} is not listed in ERROR_CODES")
        self.status_code = status
        error: dict[str, Any] = {"code": code, "message": message}
        if field is not None:
            error["field"] = field
        if details is not None:
            error |= details  # what the UI needs to word the error itself (e.g. who replied)
        super().__init__(
            text=json.dumps({"error": error}, ensure_ascii=False),
            content_type="application/json",
            headers=headers,
        )


def _translate(exc: Exception) -> ApiError | None:
    match exc:
        case TooLarge():
            return ApiError(413, "too_large", str(exc), field=exc.field)
        case ValidationError():
            return ApiError(400, "validation", str(exc), field=exc.field)
        case NotFound():
            return ApiError(404, "not_found", str(exc))
        case PermissionDenied():
            return ApiError(403, "forbidden", str(exc))
        case OwnAccount():
            return ApiError(409, "own_account", str(exc))
        case LastAdmin():
            return ApiError(409, "last_admin", str(exc))
        case ReplyCollision():
            return ApiError(
                409, "reply_collision", str(exc), details={"authors": list(exc.authors)}
            )
        case Conflict():  # a few say which conflict (NumberOfOtherConsulter, CallbackTaken)
            return ApiError(409, getattr(exc, "code", "conflict"), str(exc))
        case DuplicateKey():
            return ApiError(409, "conflict", str(exc), field=exc.key)
        case IntakeBusy():
            return ApiError(503, "busy", str(exc), headers={"Retry-After": "5"})
        case StorageError():
            return ApiError(
                503,
                "database",
                "the database is unavailable; retry shortly",
                headers={"Retry-After": "5"},
            )
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A request's id in its log lines: this process's random tag and a count (6 hex digits, more
# past 16 million), unique enough to find one request's lines among several instances' (uuid4
# cost a system call per request, and 200 consoles refetch every second).
_PROCESS_TAG = secrets.token_hex(3)
_REQUEST_COUNT = itertools.count()


def next_request_id() -> str:
    return f"{_PROCESS_TAG}{next(_REQUEST_COUNT):06x}"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id_var.set(next_request_id())
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SERVICES].settings.max_body_bytes
        raise ApiError(
            413,
            "too_large",
            f"the request body is larger than {limit} bytes (server.max_body_bytes)",
            field="body",
        ) from None
    except InboxError as exc:
        api_error = _translate(exc)
        if api_error is None:
            raise  # not an error we answer on purpose: aiohttp logs it and answers 500
        if isinstance(exc, StorageError) and not isinstance(
            exc, NotFound | Conflict | DuplicateKey
        ):
            # An unknown id, a lost race or a taken key is an answer (404, 409), not a failure.
            log.error("database error", exc_info=True, extra={"action": "request_db_error"})
        raise api_error from None


# Deeper than any body we accept; the recursive code after parsing (json.dumps of event data,
# the stores) must never meet a body near the interpreter's recursion limit.
MAX_JSON_DEPTH = 32
INT64_MAX = 2**63 - 1  # ids and counts are BIGINT in both stores


def read_json_object(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, every string in it made storable (inbox.core.text), so a lone
    surrogate or a NUL in a reply, note or name is stored the same way on both databases."""
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"malformed JSON ({exc})", field="body") from None
    except RecursionError:
        raise ValidationError(f"nested deeper than {MAX_JSON_DEPTH} levels", field="body") from None
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", field="body")
    check_json_depth(data)
    # The fast path: JSON forbids raw control characters, so in UTF-8 only an escape (\u0000,
    # \ud83d) or a surrogate's UTF-8 form (ED A0-BF .., which json.loads lets through) can
    # put either in a string; UTF-16 and UTF-32 (which json.loads also reads) hold NUL bytes.
    if b"\\u" in raw or b"\xed" in raw or b"\x00" in raw:
        return dict(storable_json(data))
    return data


def check_json_depth(data: object, max_depth: int = MAX_JSON_DEPTH) -> None:
    """ValidationError for a value nested deeper than max_depth; iterative, so depth is free."""
    level: list[object] = [data]
    for _ in range(max_depth):
        level = [
            child
            for value in level
            if isinstance(value, dict | list)
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return
    raise ValidationError(f"nested deeper than {max_depth} levels", field="body")


async def json_body(request: web.Request) -> dict[str, Any]:
    return read_json_object(await request.read())


def field_str(data: dict[str, Any], name: str, *, max_chars: int | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("required, a non-empty string", field=name)
    if max_chars is not None and len(value) > max_chars:
        raise TooLarge(f"at most {max_chars} characters, got {len(value)}", field=name)
    return value


def is_int64(value: object) -> TypeGuard[int]:
    """A JSON integer (not a bool) that fits the stores' BIGINT."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -INT64_MAX - 1 <= value <= INT64_MAX
    )


def optional_id(data: dict[str, Any], name: str) -> int | None:
    """An optional field holding an id (a non-negative 64-bit integer), or None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not is_int64(value) or value < 0:
        raise ValidationError("a message id: a non-negative 64-bit integer, or absent", field=name)
    return value


def optional_bool(data: dict[str, Any], name: str) -> bool:
    """An optional true/false field, false when absent."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationError("true or false", field=name)
    return value


def field_int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not is_int64(value):
        raise ValidationError("required, a 64-bit integer", field=name)
    return value


def parse_id(raw: str) -> int | None:
    """A non-negative id written in ASCII digits within int64, else None. str.isdigit() alone
    also takes "²" and "١", which int() then refuses or reads as another number."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(INT64_MAX)):
        return None
    value = int(raw)
    return value if value <= INT64_MAX else None


def query_date(request: web.Request, name: str) -> date | None:
    """An optional day in the query, YYYY-MM-DD (years 1900 to 9000); anything else is 400."""
    raw = request.query.get(name, "")
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 9000:
        raise ValidationError("a date as YYYY-MM-DD (years 1900 to 9000)", field=name)
    return day


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"{name} {raw!r} is not an id")
    return value


def path_text(request: web.Request, name: str) -> str:
    """A path segment that names a record by text: one with NUL, which PostgreSQL text cannot
    hold (the driver would fail), names nothing."""
    raw = request.match_info[name]
    if "\x00" in raw:
        raise NotFound(f"{name} contains NUL, so names nothing")
    return raw
