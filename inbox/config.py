"""Typed configuration: config.toml via tomllib into frozen dataclasses, checked once at startup."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from inbox.casework_config import CaseworkConfig
from inbox.core.errors import ConfigError
from inbox.core.labels import Label
from inbox.core.model import ChannelKind, Role
from inbox.core.windows import parse_timezone
from inbox.desk_config import DeskConfig
from inbox.line_config import LineConfig, line_problem, resolve_line
from inbox.mail_config import MailConfig, mail_problem
from inbox.outcomes import DEFAULT_OUTCOMES, parse_outcomes
from inbox.phone_config import PhoneConfig
from inbox.privacy import (
    DEFAULT_REVEAL_ROLES,
    AnonymityPolicy,
    parse_anonymity,
    parse_reveal_roles,
)
from inbox.report_config import ReportConfig, RetentionConfig
from inbox.sms_config import SmsConfig, VoiceConfig, resolve_sms_voice, sms_problem, voice_problem
from inbox.survey_config import SurveyConfig
from routing.deadlines import ResponseTargets, parse_targets
from routing.hours import (
    ALWAYS_OPEN,
    TOKYO,
    DeskClosedDays,
    ServiceHours,
    parse_service_hours,
)
from routing.replies import ReplyTexts, parse_replies
from routing.rota import NO_ROTA, OnCallRota, on_call_at, parse_rota
from routing.rules import Rule, UrgentTriage
from routing.rules_config import parse_rules, parse_triage

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

SecureCookies = Literal["auto", "always", "never"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["json", "text"]

DATA_DIR_ENV = "TSUNAGU_DATA_DIR"
_SECRET_PARAMS = frozenset({"password", "sslpassword"})  # libpq's URL parameters that hold one
DATABASE_URL_ENV = "TSUNAGU_DATABASE_URL"

# Field metadata understood by the loader, declared next to each field:
#   min / max: inclusive bounds; gt: exclusive lower bound; min_field: >= a sibling field;
#   url: a database URL, http_url: an http(s) URL ("" allowed in both: it means "derive it");
#   toml=False: set at load time, not from the file.
_NOT_IN_FILE = {"toml": False}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata={"min": 0, "max": 65535})  # 0: any free port (tests)
    public_url: str = field(default="", metadata={"http_url": True})
    secure_cookies: SecureCookies = "auto"
    session_ttl_h: int = field(default=12, metadata={"min": 1})
    max_body_bytes: int = field(default=65536, metadata={"min": 1024})
    allowed_origins: tuple[str, ...] = ()

    @property
    def base_url(self) -> str:
        """The URL people reach us at, without a trailing slash: public_url, else host:port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"http://{host}:{self.port}"

    @property
    def cookies_secure(self) -> bool:
        match self.secure_cookies:
            case "always":
                return True
            case "never":
                return False
            case "auto":
                return self.base_url.startswith("https://")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInConfig:
    # Failures within window_s that lock an account name (known or not) or a client address
    # for lockout_s; counted in memory per instance.
    max_failures_per_account: int = field(default=10, metadata={"min": 1})
    max_failures_per_address: int = field(default=50, metadata={"min": 1})
    window_s: float = field(default=900.0, metadata={"gt": 0})
    lockout_s: float = field(default=900.0, metadata={"gt": 0})
    # argon2 runs in threads, this many at once; a sign-in waits at most hash_wait_s for one.
    max_concurrent_hashes: int = field(default=2, metadata={"min": 1})
    hash_wait_s: float = field(default=5.0, metadata={"gt": 0})
    # "" uses the peer address; a header such as "X-Forwarded-For" only behind a proxy that sets it.
    client_address_header: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseConfig:
    # repr=False: a postgresql:// URL may carry a password; log display_url instead.
    url: str = field(default="", repr=False, metadata={"url": True})
    connect_attempts: int = field(default=10, metadata={"min": 1})
    connect_backoff_max_s: float = field(default=10.0, metadata={"gt": 0})
    pool_min: int = field(default=1, metadata={"min": 1})
    pool_max: int = field(default=10, metadata={"min_field": "pool_min"})
    command_timeout_s: float = field(default=60.0, metadata={"gt": 0})
    migrate_on_start: bool = True

    @property
    def backend(self) -> Literal["sqlite", "postgres"]:
        return "postgres" if self.url.startswith(("postgresql://", "postgres://")) else "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The file of a sqlite:///path URL (relative paths are relative to the cwd), else None."""
        if not self.url.startswith("sqlite:///"):
            return None
        return Path(self.url.removeprefix("sqlite:///"))

    @property
    def display_url(self) -> str:
        """The URL with any password masked (user:pw@, or ?password= and ?sslpassword=), safe
        for logs and the terminal."""
        parts = urlsplit(self.url)
        if parts.password is not None:
            parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
        if parts.query:
            query = [
                (k, "***" if k.lower() in _SECRET_PARAMS else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ]
            parts = parts._replace(query=urlencode(query, safe="*"))
        return parts.geturl()


@dataclass(frozen=True, slots=True, kw_only=True)
class DataConfig:
    dir: Path = Path("tsunagu-data")  # made absolute at load time


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityConfig:
    identity_key_env: str = "TSUNAGU_IDENTITY_KEY"
    # Read from the environment, never from the file; None means "use the key file in data.dir".
    identity_key: str | None = field(default=None, repr=False, metadata=_NOT_IN_FILE)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeConfig:
    queue_max: int = field(default=10000, metadata={"min": 1})
    batch_max: int = field(default=2000, metadata={"min": 1})
    ack_timeout_s: float = field(default=10.0, metadata={"gt": 0})
    max_message_chars: int = field(default=10000, metadata={"min": 1})


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxConfig:
    batch: int = field(default=50, metadata={"min": 1})
    max_attempts: int = field(default=8, metadata={"min": 1})
    backoff_base_s: float = field(default=2.0, metadata={"gt": 0})
    backoff_max_s: float = field(default=600.0, metadata={"min_field": "backoff_base_s"})
    lease_s: float = field(default=60.0, metadata={"gt": 0})
    send_timeout_s: float = field(default=30.0, metadata={"gt": 0})


DEFAULT_EXIT_URL = "https://www.google.com/search?q=%E5%A4%A9%E6%B0%97"  # a search for 天気


@dataclass(frozen=True, slots=True, kw_only=True)
class WebchatConfig:
    enabled: bool = True
    heartbeat_s: float = field(default=30.0, metadata={"gt": 0})
    client_queue: int = field(default=100, metadata={"min": 1})
    # A socket whose writes stay blocked this long (its peer does not read) is closed.
    send_timeout_s: float = field(default=10.0, metadata={"gt": 0})
    history_page: int = field(default=50, metadata={"min": 1})
    frames_per_minute: int = field(default=30, metadata={"min": 1})
    messages_per_day: int = field(default=300, metadata={"min": 1})
    sockets_per_session: int = field(default=5, metadata={"min": 1})
    # Where "quick exit" takes her: a neutral page that says nothing of counseling.
    exit_url: str = field(default=DEFAULT_EXIT_URL, metadata={"http_url": True})
    # Whether "keep this conversation on this device" starts ticked. Off: the chat opens empty
    # next time unless she chose to keep it (a shared phone shows nothing).
    keep_on_device: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownConfig:
    drain_s: float = field(default=10.0, metadata={"gt": 0})


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggingConfig:
    level: LogLevel = "INFO"
    format: LogFormat = "json"


def _parse_hours(raw: object, where: str) -> tuple[tuple[ChannelKind, ServiceHours], ...]:
    """[routing.hours.<channel>] tables; a channel without one is always open."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of channels, got {_show(raw)}")
    names = [c.value for c in ChannelKind]
    out = []
    for name, table in raw.items():
        if name not in names:
            raise ConfigError(f"{where}.{name}: unknown channel (valid: {', '.join(names)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}.{name}: expected a table, got {_show(table)}")
        out.append((ChannelKind(name), parse_service_hours(table, f"{where}.{name}")))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    # The program's time zone: rules' `hours` and the times shown to consulters are read in it.
    timezone: ZoneInfo = field(default=TOKYO, metadata={"parse": parse_timezone})
    continuity_days: float = field(default=30.0, metadata={"min": 0})
    continuity_wait_s: float = field(default=120.0, metadata={"min": 0})
    # An offer the counselor has not opened after this long goes to the next counselor; 0: never.
    offer_timeout_s: float = field(default=180.0, metadata={"min": 0})
    # Router rounds begin at least this far apart: a burst of wakes is one round (inbox.router).
    round_min_gap_ms: int = field(default=50, metadata={"min": 0, "max": 1000})
    # A counselor whose last staff socket (console tab) closed is set away after this long, so
    # the router passes her by; she is available again when she reconnects. 0: never.
    disconnect_grace_s: float = field(default=120.0, metadata={"min": 0})
    # The on-call rota (当番表, see routing.rota): who is on call when, in `timezone`. An urgent
    # conversation (triaged, or past its response target) that no one on duty can take is
    # given to the person on call at that moment; a plain username is on call at every hour.
    on_call: OnCallRota = field(default=NO_ROTA, metadata={"parse": parse_rota})
    # Where to tell the person on call by e-mail (through [mail]'s SMTP server); "" for none.
    on_call_email: str = ""
    hours: tuple[tuple[ChannelKind, ServiceHours], ...] = field(
        default=(), metadata={"parse": _parse_hours}
    )
    rules: tuple[Rule, ...] = field(default=(), metadata={"parse": parse_rules})
    urgent: UrgentTriage = field(default_factory=UrgentTriage, metadata={"parse": parse_triage})
    replies: ReplyTexts = field(default_factory=ReplyTexts, metadata={"parse": parse_replies})
    targets: ResponseTargets = field(
        default_factory=ResponseTargets, metadata={"parse": parse_targets}
    )

    def hours_for(self, channel: ChannelKind) -> ServiceHours:
        return dict(self.hours).get(channel, ALWAYS_OPEN)

    def closed_days_for(self, channels: Iterable[ChannelKind]) -> DeskClosedDays:
        """The desk's closed days, which counselors' shifts follow, over the enabled `channels`
        (Config.closed_days): the days every one of them is closed all day; a channel without
        service hours is always open, and then no day is (inbox.core.shifts.DeskClosed)."""
        return DeskClosedDays(tuple(self.hours_for(c) for c in channels))

    def on_call_at(self, at: datetime) -> str | None:
        """The username on call at `at` by the rota, read in the program's time zone."""
        return on_call_at(self.on_call, at, self.timezone)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyConfig:
    anonymity: AnonymityPolicy = field(
        default_factory=AnonymityPolicy, metadata={"parse": parse_anonymity}
    )
    reveal_roles: frozenset[Role] = field(
        default=DEFAULT_REVEAL_ROLES, metadata={"parse": parse_reveal_roles}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosingConfig:
    # How a conversation may end: the counselor picks one when she closes it (ja/en labels).
    outcomes: tuple[Label, ...] = field(
        default=DEFAULT_OUTCOMES, metadata={"parse": parse_outcomes}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchConfig:
    # Words under three characters cannot use the trigram index: they are looked for in this
    # many most recent messages only (a bounded scan), and the answer says so.
    short_query_recent_messages: int = field(default=20000, metadata={"min": 1})
    # SQLite: new messages join the text index this often, this many at a time (PostgreSQL's
    # index is kept by the database). Search reads the ones not yet indexed without it.
    index_interval_s: float = field(default=2.0, metadata={"gt": 0})
    index_batch: int = field(default=500, metadata={"min": 1})


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    sign_in: SignInConfig = field(default_factory=SignInConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    data: DataConfig = field(default_factory=DataConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    webchat: WebchatConfig = field(default_factory=WebchatConfig)
    shutdown: ShutdownConfig = field(default_factory=ShutdownConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    mail: MailConfig = field(default_factory=MailConfig)
    closing: ClosingConfig = field(default_factory=ClosingConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    phone: PhoneConfig = field(default_factory=PhoneConfig)
    line: LineConfig = field(default_factory=LineConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    casework: CaseworkConfig = field(default_factory=CaseworkConfig)
    # Where the values came from, for messages; not part of the configuration's value.
    source: str = field(default="(defaults)", compare=False, metadata=_NOT_IN_FILE)

    @property
    def enabled_channels(self) -> tuple[ChannelKind, ...]:
        """The channels consulters can reach the desk on: the web chat, mail, SMS and LINE when
        enabled; the phone when Twilio Voice is, or (an ordinary line, logged by hand) when it
        has service hours."""
        configured = {c for c, _ in self.routing.hours}
        switched = {
            ChannelKind.WEBCHAT: self.webchat.enabled,
            ChannelKind.MAIL: self.mail.enabled,
            ChannelKind.SMS: self.sms.enabled,
            ChannelKind.LINE: self.line.enabled,
            ChannelKind.PHONE: self.voice.enabled or ChannelKind.PHONE in configured,
        }
        return tuple(c for c in ChannelKind if switched.get(c, c in configured))

    @property
    def closed_days(self) -> DeskClosedDays:
        """The desk's closed days, which counselors' shifts follow: the days every enabled
        channel is closed all day. An enabled channel without service hours (the web chat,
        unless [routing.hours.webchat] is written) is always open: then no day is closed."""
        return self.routing.closed_days_for(self.enabled_channels)


def load_config(path: Path | None, *, env: Mapping[str, str]) -> Config:
    """Read, check and resolve the configuration; path None means all defaults.

    Raises ConfigError naming the file, the dotted key, the value and the fix.
    """
    source = "(defaults)" if path is None else str(path)
    try:
        raw = {} if path is None else _read_toml(path)
        cfg = _resolve(dataclasses.replace(_build(Config, raw, ""), source=source), env)
        _check_templates(cfg.routing)
        _check_on_call(cfg)
        return cfg
    except _Problem as exc:
        raise ConfigError(f"{source}: {exc}") from None


def with_overrides(cfg: Config, *, host: str | None = None, port: int | None = None) -> Config:
    """Apply the CLI's --host/--port over the file, with the same checks."""
    server = dataclasses.replace(
        cfg.server,
        host=cfg.server.host if host is None else host,
        port=cfg.server.port if port is None else port,
    )
    try:
        _validate(server, "server.")
    except _Problem as exc:
        raise ConfigError(f"command line: {exc}") from None
    return dataclasses.replace(cfg, server=server)


def _check_templates(routing: RoutingConfig) -> None:
    """A rule's auto_reply must name a template of [routing.replies.templates]."""
    for i, rule in enumerate(routing.rules):
        if rule.auto_reply is not None and routing.replies.template(rule.auto_reply) is None:
            names = ", ".join(n for n, _ in routing.replies.templates) or "none defined"
            raise _Problem(
                f"routing.rules[{i}] ({rule.name!r}).then.auto_reply: no template"
                f" {rule.auto_reply!r} in [routing.replies.templates] ({names})"
            )


def _check_on_call(cfg: Config) -> None:
    email = cfg.routing.on_call_email
    if not email:
        return
    if not cfg.routing.on_call.people:
        raise _Problem("routing.on_call_email: set routing.on_call (whom the mail is about)")
    if "@" not in email:
        raise _Problem(f"routing.on_call_email: {email!r} is not an e-mail address")
    if not cfg.mail.enabled:
        raise _Problem("routing.on_call_email: needs [mail] enabled (its SMTP server sends it)")


class _Problem(Exception):
    """One invalid value, as "dotted.key: what is wrong"; load_config adds the file name."""


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise _Problem("file not found (start from a copy of config.example.toml)") from None
    except OSError as exc:
        raise _Problem(f"cannot read: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError as exc:
        raise _Problem(f"not valid UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has no lineno; the position is only in the text.
        m = re.fullmatch(r"(.*) \(at line (\d+), column \d+\)", str(exc), re.DOTALL)
        if m is None:
            raise _Problem(f"invalid TOML: {exc}") from None
        raise _Problem(f"line {m[2]}: {m[1]}") from None


_D = TypeVar("_D", bound="DataclassInstance")


def _build(cls: type[_D], table: Mapping[str, object], prefix: str) -> _D:
    """Make cls from a TOML table, driven by its fields' type hints and metadata."""
    hints = get_type_hints(cls)
    settable = [f.name for f in dataclasses.fields(cls) if f.metadata.get("toml", True)]
    kwargs: dict[str, object] = {}
    for key, value in table.items():
        if key not in settable:
            kind = "section" if not prefix else "key"
            close = difflib.get_close_matches(key, settable, n=1)
            fix = f"did you mean {close[0]!r}?" if close else f"valid: {', '.join(settable)}"
            raise _Problem(f"{prefix}{key}: unknown {kind} ({fix})")
        parse = _field(cls, key).metadata.get("parse")
        if parse is not None:  # a structure another module defines and checks (routing rules)
            try:
                kwargs[key] = parse(value, f"{prefix}{key}")
            except ConfigError as exc:
                raise _Problem(str(exc)) from None
            continue
        kwargs[key] = _coerce(hints[key], value, f"{prefix}{key}")
    obj = cls(**kwargs)
    _validate(obj, prefix)
    return obj


def _field(cls: type[DataclassInstance], name: str) -> dataclasses.Field[object]:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


_EXPECTED = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a string (a path)",
}


def _coerce(hint: object, value: object, where: str) -> object:
    if get_origin(hint) is Literal:
        if value not in get_args(hint):
            choices = ", ".join(_show(c) for c in get_args(hint))
            raise _Problem(f"{where}: must be one of {choices}, got {_show(value)}")
        return value
    if get_origin(hint) is tuple:  # only tuple[str, ...] is used
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Problem(f"{where}: expected a list of strings, got {_show(value)}")
        return tuple(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _Problem(f"{where}: expected a [{where}] table, got {_show(value)}")
        return _build(hint, value, f"{where}.")
    if hint is Path and isinstance(value, str):
        return Path(value)
    # bool is an int subclass in Python, but `port = true` is surely a mistake.
    if isinstance(value, bool) == (hint is bool):
        if hint is float and isinstance(value, int | float):
            return float(value)  # TOML `drain_s = 10` is an integer; accept it as 10.0
        if isinstance(hint, type) and isinstance(value, hint):
            return value
    expected = _EXPECTED[hint] if isinstance(hint, type) and hint in _EXPECTED else str(hint)
    raise _Problem(f"{where}: expected {expected}, got {_show(value)}")


def _validate(obj: DataclassInstance, prefix: str) -> None:
    """Check each field against the bounds declared in its metadata."""
    for f in dataclasses.fields(obj):
        value, meta, where = getattr(obj, f.name), f.metadata, f"{prefix}{f.name}"
        if "min" in meta and value < meta["min"]:
            raise _Problem(f"{where}: must be >= {meta['min']}, got {_show(value)}")
        if "max" in meta and value > meta["max"]:
            raise _Problem(f"{where}: must be <= {meta['max']}, got {_show(value)}")
        if "gt" in meta and value <= meta["gt"]:
            raise _Problem(f"{where}: must be > {meta['gt']}, got {_show(value)}")
        if "min_field" in meta and value < (floor := getattr(obj, meta["min_field"])):
            raise _Problem(f"{where}: must be >= {meta['min_field']} ({floor}), got {_show(value)}")
        if "url" in meta and value and (problem := _database_url_problem(value)):
            raise _Problem(f"{where}: {problem}")
        if "http_url" in meta and value and not value.startswith(("http://", "https://")):
            raise _Problem(f"{where}: must start with http:// or https://, got {_show(value)}")


def _database_url_problem(url: str) -> str | None:
    # Never echo the URL itself: a postgresql:// URL may contain a password.
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return None
    if scheme == "sqlite":
        ok = url.startswith("sqlite:///") and len(url) > len("sqlite:///")
        return None if ok else "expected sqlite:///path/to/inbox.db (three slashes, then a path)"
    got = f"scheme {scheme!r}" if scheme else "no scheme"
    return f"expected sqlite:///path, postgresql://... or postgres://..., got {got}"


# Without it every Twilio webhook fails its signature (403) and Twilio is given callback URLs
# on 127.0.0.1.
PUBLIC_URL_REQUIRED = (
    "server.public_url: required when sms.enabled or voice.enabled (Twilio signs the URL it"
    " calls and must reach the status callbacks)"
)


def _resolve(cfg: Config, env: Mapping[str, str]) -> Config:
    """Apply environment overrides and derive the values that default to "".

    An empty environment variable counts as unset, as shells and compose files often export "".
    """
    data_dir = Path(env.get(DATA_DIR_ENV) or cfg.data.dir).expanduser().resolve()
    database = cfg.database
    if url := env.get(DATABASE_URL_ENV):
        if problem := _database_url_problem(url):
            raise _Problem(f"database.url (from {DATABASE_URL_ENV}): {problem}")
        database = dataclasses.replace(database, url=url)
    if not database.url:
        database = dataclasses.replace(database, url=f"sqlite:///{data_dir / 'inbox.db'}")
    key = env.get(cfg.security.identity_key_env) or None
    mail = dataclasses.replace(
        cfg.mail,
        imap_password=env.get(cfg.mail.imap_password_env, ""),
        smtp_password=env.get(cfg.mail.smtp_password_env, ""),
    )
    if problem := mail_problem(mail):
        raise _Problem(problem)
    sms, voice = resolve_sms_voice(cfg.sms, cfg.voice, env)
    if problem := sms_problem(sms) or voice_problem(voice, sms):
        raise _Problem(problem)
    if (sms.enabled or voice.enabled) and not cfg.server.public_url:
        raise _Problem(PUBLIC_URL_REQUIRED)
    line = resolve_line(cfg.line, env)
    if problem := line_problem(line):
        raise _Problem(problem)
    return dataclasses.replace(
        cfg,
        data=DataConfig(dir=data_dir),
        database=database,
        security=dataclasses.replace(cfg.security, identity_key=key),
        mail=mail,
        sms=sms,
        voice=voice,
        line=line,
    )


def _show(value: object) -> str:
    """Render a value the way it would be written in TOML (strings in double quotes)."""
    if isinstance(value, dict):
        return "a table"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
