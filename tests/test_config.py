"""config.toml loading: the example file, every error message, env overrides and derived values."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import get_type_hints

import pytest

from inbox.config import Config, load_config, with_overrides
from inbox.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory, so relative paths and messages read like a user's."""
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


def load(text: str, **env: str) -> Config:
    Path("config.toml").write_text(text, encoding="utf-8")
    return load_config(Path("config.toml"), env=env)


def load_error(text: str, **env: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(text, **env)
    return str(info.value)


def test_example_file_loads_and_equals_the_defaults(cwd: Path) -> None:
    cfg = load_config(EXAMPLE, env={})
    assert cfg == load_config(None, env={})
    assert cfg.source == str(EXAMPLE)


def test_example_file_documents_every_key() -> None:
    with EXAMPLE.open("rb") as fh:
        example = tomllib.load(fh)
    sections = {k: v for k, v in get_type_hints(Config).items() if k != "source"}
    assert set(example) == set(sections)
    for name, section in sections.items():
        settable = {f.name for f in dataclasses.fields(section) if f.metadata.get("toml", True)}
        assert set(example[name]) == settable, name


def test_defaults_need_no_file(cwd: Path) -> None:
    cfg = load_config(None, env={})
    assert cfg.source == "(defaults)"
    assert cfg.server.port == 8080
    assert cfg.server.base_url == "http://127.0.0.1:8080"
    assert cfg.server.cookies_secure is False
    assert cfg.logging.level == "INFO"


def test_unknown_key_names_the_nearest_valid_key(cwd: Path) -> None:
    message = load_error("[intake]\nqueu_max = 5\n")
    assert message == "config.toml: intake.queu_max: unknown key (did you mean 'queue_max'?)"


def test_unknown_key_without_a_near_match_lists_the_valid_keys(cwd: Path) -> None:
    message = load_error("[shutdown]\nzzz = 1\n")
    assert message == "config.toml: shutdown.zzz: unknown key (valid: drain_s)"


def test_unknown_section(cwd: Path) -> None:
    message = load_error("[servr]\nport = 1\n")
    assert message == "config.toml: servr: unknown section (did you mean 'server'?)"


def test_secrets_cannot_be_put_in_the_file(cwd: Path) -> None:
    message = load_error('[security]\nidentity_key = "s3cret"\n')
    assert message == (
        "config.toml: security.identity_key: unknown key (did you mean 'identity_key_env'?)"
    )
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[server]\nport = "80"', 'server.port: expected an integer, got "80"'),
        ("[server]\nport = true", "server.port: expected an integer, got true"),
        ("[server]\nport = 80.5", "server.port: expected an integer, got 80.5"),
        ("[webchat]\nenabled = 1", "webchat.enabled: expected true or false, got 1"),
        ('[shutdown]\ndrain_s = "10"', 'shutdown.drain_s: expected a number, got "10"'),
        ("[shutdown]\ndrain_s = false", "shutdown.drain_s: expected a number, got false"),
        ("[server]\nhost = 1", "server.host: expected a string, got 1"),
        ("[data]\ndir = 1", "data.dir: expected a string (a path), got 1"),
        (
            '[server]\nallowed_origins = "https://a"',
            'server.allowed_origins: expected a list of strings, got "https://a"',
        ),
        (
            "[server]\nallowed_origins = [1]",
            "server.allowed_origins: expected a list of strings, got [1]",
        ),
        ("server = 5", "server: expected a [server] table, got 5"),
        (
            '[logging]\nlevel = "info"',
            'logging.level: must be one of "DEBUG", "INFO", "WARNING", "ERROR", got "info"',
        ),
        (
            '[server]\nsecure_cookies = "yes"',
            'server.secure_cookies: must be one of "auto", "always", "never", got "yes"',
        ),
    ],
)
def test_wrong_types_are_rejected(cwd: Path, text: str, expected: str) -> None:
    assert load_error(text) == f"config.toml: {expected}"


def test_an_integer_is_accepted_where_a_float_is_expected(cwd: Path) -> None:
    drain_s = load("[shutdown]\ndrain_s = 3\n").shutdown.drain_s
    assert drain_s == 3.0
    assert type(drain_s) is float


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[intake]\nqueue_max = 0", "intake.queue_max: must be >= 1, got 0"),
        ("[server]\nmax_body_bytes = 1000", "server.max_body_bytes: must be >= 1024, got 1000"),
        ("[server]\nport = -1", "server.port: must be >= 0, got -1"),
        ("[server]\nport = 65536", "server.port: must be <= 65535, got 65536"),
        ("[shutdown]\ndrain_s = 0", "shutdown.drain_s: must be > 0, got 0.0"),
        ("[outbox]\nlease_s = -1.5", "outbox.lease_s: must be > 0, got -1.5"),
    ],
)
def test_values_out_of_range_are_rejected(cwd: Path, text: str, expected: str) -> None:
    assert load_error(text) == f"config.toml: {expected}"


def test_port_zero_is_allowed_for_tests(cwd: Path) -> None:
    assert load("[server]\nport = 0\n").server.port == 0


def test_pool_max_below_pool_min(cwd: Path) -> None:
    message = load_error("[database]\npool_min = 5\npool_max = 2\n")
    assert message == "config.toml: database.pool_max: must be >= pool_min (5), got 2"


def test_cross_field_check_applies_to_defaults_too(cwd: Path) -> None:
    message = load_error("[database]\npool_min = 20\n")
    assert message == "config.toml: database.pool_max: must be >= pool_min (20), got 10"


def test_backoff_max_below_backoff_base(cwd: Path) -> None:
    message = load_error("[outbox]\nbackoff_base_s = 5.0\nbackoff_max_s = 1.0\n")
    assert message == "config.toml: outbox.backoff_max_s: must be >= backoff_base_s (5.0), got 1.0"


@pytest.mark.parametrize(
    "url", ["mysql://app:hunter2@db/inbox", "sqlite://inbox.db", "sqlite:///", "inbox.db"]
)
def test_unsupported_database_urls_are_rejected_without_echoing_them(cwd: Path, url: str) -> None:
    message = load_error(f'[database]\nurl = "{url}"\n')
    assert message.startswith("config.toml: database.url: expected sqlite:///")
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url", ["sqlite:///inbox.db", "postgresql://app@db/inbox", "postgres://app:pw@db:5432/inbox"]
)
def test_supported_database_urls(cwd: Path, url: str) -> None:
    assert load(f'[database]\nurl = "{url}"\n').database.url == url


def test_public_url_must_be_http(cwd: Path) -> None:
    message = load_error('[server]\npublic_url = "inbox.example.org"\n')
    assert message == (
        "config.toml: server.public_url: must start with http:// or https://, "
        'got "inbox.example.org"'
    )


def test_bad_toml_syntax_names_the_line(cwd: Path) -> None:
    message = load_error('[server]\nhost = "a"\nport = = 1\n')
    assert message.startswith("config.toml: line 3: ")
    assert "column" not in message


def test_missing_file(cwd: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(Path("config.toml"), env={})
    assert str(info.value).startswith("config.toml: file not found")


def test_messages_use_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "tsunagu.toml"
    with pytest.raises(ConfigError, match=f"^{path}: file not found"):
        load_config(path, env={})


def test_default_database_is_sqlite_under_the_data_dir(cwd: Path) -> None:
    cfg = load_config(None, env={})
    assert cfg.data.dir == cwd / "tsunagu-data"
    assert cfg.database.url == f"sqlite:///{cwd}/tsunagu-data/inbox.db"
    assert cfg.database.backend == "sqlite"
    assert cfg.database.sqlite_path == cwd / "tsunagu-data" / "inbox.db"


def test_relative_data_dir_resolves_against_the_working_directory(cwd: Path) -> None:
    cfg = load('[data]\ndir = "var/inbox"\n')
    assert cfg.data.dir == cwd / "var" / "inbox"
    assert cfg.database.sqlite_path == cwd / "var" / "inbox" / "inbox.db"


def test_env_overrides_the_data_dir(cwd: Path) -> None:
    cfg = load('[data]\ndir = "from-file"\n', TSUNAGU_DATA_DIR="from-env")
    assert cfg.data.dir == cwd / "from-env"
    assert cfg.database.url == f"sqlite:///{cwd}/from-env/inbox.db"


def test_env_overrides_the_database_url(cwd: Path) -> None:
    url = "postgresql://app:pw@db/inbox"
    cfg = load('[database]\nurl = "sqlite:///x.db"\n', TSUNAGU_DATABASE_URL=url)
    assert cfg.database.url == url
    assert cfg.database.backend == "postgres"
    assert cfg.database.sqlite_path is None


def test_empty_env_vars_count_as_unset(cwd: Path) -> None:
    cfg = load_config(None, env={"TSUNAGU_DATABASE_URL": "", "TSUNAGU_DATA_DIR": ""})
    assert cfg == load_config(None, env={})


def test_bad_database_url_from_env_says_where_it_came_from(cwd: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"TSUNAGU_DATABASE_URL": "mysql://app:hunter2@db/x"})
    message = str(info.value)
    assert message.startswith("(defaults): database.url (from TSUNAGU_DATABASE_URL): expected")
    assert "hunter2" not in message


def test_database_password_stays_out_of_repr_and_display_url(cwd: Path) -> None:
    cfg = load_config(None, env={"TSUNAGU_DATABASE_URL": "postgresql://app:hunter2@db/x"})
    assert "hunter2" not in repr(cfg)
    assert cfg.database.display_url == "postgresql://app:***@db/x"
    # libpq also takes the password as a query parameter
    url = "postgresql://app@db/x?sslmode=require&password=hunter2&sslpassword=hunter3"
    cfg = load_config(None, env={"TSUNAGU_DATABASE_URL": url})
    assert cfg.database.display_url == (
        "postgresql://app@db/x?sslmode=require&password=***&sslpassword=***"
    )


def test_identity_key_comes_from_the_named_env_var_and_stays_out_of_repr(cwd: Path) -> None:
    cfg = load('[security]\nidentity_key_env = "MY_KEY"\n', MY_KEY="s3cret-key-value")
    assert cfg.security.identity_key == "s3cret-key-value"
    assert "s3cret-key-value" not in repr(cfg)
    assert "s3cret-key-value" not in str(cfg)


def test_unset_identity_key_is_not_an_error(cwd: Path) -> None:
    cfg = load_config(None, env={})
    assert cfg.security.identity_key_env == "TSUNAGU_IDENTITY_KEY"
    assert cfg.security.identity_key is None
    assert load_config(None, env={"TSUNAGU_IDENTITY_KEY": "k"}).security.identity_key == "k"


def test_public_url_drives_base_url_and_secure_cookies(cwd: Path) -> None:
    server = load('[server]\npublic_url = "https://inbox.example.org/"\n').server
    assert server.base_url == "https://inbox.example.org"
    assert server.cookies_secure is True
    assert load('[server]\nsecure_cookies = "always"\n').server.cookies_secure is True
    assert load('[server]\nhost = "::1"\nport = 9000\n').server.base_url == "http://[::1]:9000"


def test_with_overrides_replaces_host_and_port(cwd: Path) -> None:
    cfg = load('[server]\nhost = "0.0.0.0"\nport = 9000\nsession_ttl_h = 3\n')
    assert with_overrides(cfg) == cfg
    assert with_overrides(cfg, port=0).server.port == 0
    changed = with_overrides(cfg, host="127.0.0.2", port=8081)
    assert (changed.server.host, changed.server.port) == ("127.0.0.2", 8081)
    assert changed.server.session_ttl_h == 3
    assert changed.server.base_url == "http://127.0.0.2:8081"
    assert changed.source == cfg.source


def test_with_overrides_checks_the_port(cwd: Path) -> None:
    cfg = load_config(None, env={})
    with pytest.raises(ConfigError, match=r"^command line: server\.port: must be <= 65535"):
        with_overrides(cfg, port=70000)


# ---- [routing] ----------------------------------------------------------------------------------
ROUTING = """
[routing]
continuity_wait_s = 30
[[routing.rules]]
name = "dv"
match = { channels = ["line"], keywords = ["ＤＶ"] }
then = { skill = "dv", priority = 50 }
[routing.hours.line]
weekdays = ["09:00-17:30"]
[routing.urgent.keywords]
stalking = ["つけられている"]
"""


def test_routing_section_builds_rules_hours_and_triage(cwd: Path) -> None:
    from datetime import datetime

    from inbox.core.model import ChannelKind
    from routing.hours import is_open
    from routing.rules import triage

    routing = load(ROUTING).routing
    assert routing.continuity_wait_s == 30.0
    assert [r.name for r in routing.rules] == ["dv"] and routing.rules[0].skill == "dv"
    line = routing.hours_for(ChannelKind.LINE)
    assert is_open(line, datetime.fromisoformat("2026-11-24T10:00:00+09:00"))  # a Tuesday
    assert not is_open(line, datetime.fromisoformat("2026-11-23T10:00:00+09:00"))  # 勤労感謝の日
    assert is_open(routing.hours_for(ChannelKind.WEBCHAT), datetime.now().astimezone())
    found = triage(routing.urgent, "家まで つけられている 気がする")
    assert found is not None and found.category == "stalking"
    assert triage(routing.urgent, "もう死にたい") is not None  # the defaults stay on


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[routing.rules]]\nname = "dv"\n'
            'match = { channels = ["fax"] }\nthen = { skill = "dv" }',
            'routing.rules[0] ("dv").match.channels: "fax" is not a channel',
        ),
        ('[routing.hours.fax]\neveryday = ["09:00-17:00"]', "routing.hours.fax: unknown channel"),
        ('[routing.hours.line]\nweekdays = ["9:00-25:00"]', "routing.hours.line.weekdays[0]"),
        ("[routing]\ncontinuity_days = -1", "routing.continuity_days: must be >= 0"),
        ("[routing.urgent]\nuse_defaults = false", "routing.urgent"),
        ('[routing]\ntimezone = "Tokyo"', 'routing.timezone: unknown time zone "Tokyo"'),
        ("[routing]\noffer_timeout_s = -5", "routing.offer_timeout_s: must be >= 0"),
        ("[routing]\nround_min_gap_ms = 5000", "routing.round_min_gap_ms: must be <= 1000"),
        (
            '[[routing.rules]]\nname = "dv"\nmatch = {}\nthen = { auto_reply = "dv_safety" }',
            "routing.rules[0] ('dv').then.auto_reply: no template 'dv_safety'",
        ),
        ('[routing.replies]\nafter_hours = "{soon}"', "routing.replies.after_hours: unknown"),
        ('[routing]\non_call_email = "x@example.jp"', "routing.on_call_email: set routing.on_call"),
        (
            '[routing]\non_call = "boss"\non_call_email = "x@example.jp"',
            "routing.on_call_email: needs [mail] enabled",
        ),
    ],
)
def test_bad_routing_config_names_the_rule_and_field(cwd: Path, text: str, expected: str) -> None:
    message = load_error(text)
    assert message.startswith("config.toml: ") and expected in message, message


# --- rota: on-call windows
ROTA_TOML = """
[routing]
timezone = "Asia/Tokyo"

[[routing.on_call.weekly]]
who = "tanaka"
days = ["weekdays"]
windows = ["00:00-09:00", "18:00-24:00"]

[[routing.on_call.dates]]
date = 2026-12-31
who = ""
"""


def test_on_call_rota_is_read_in_the_program_time_zone(cwd: Path) -> None:
    from datetime import UTC, datetime

    routing = load(ROTA_TOML).routing
    assert routing.on_call.people == {"tanaka"}
    # 2026-11-24 (a Tuesday) 10:00 UTC is 19:00 in Tokyo; 03:00 UTC is noon.
    assert routing.on_call_at(datetime(2026, 11, 24, 10, tzinfo=UTC)) == "tanaka"
    assert routing.on_call_at(datetime(2026, 11, 24, 3, tzinfo=UTC)) is None
    assert routing.on_call_at(datetime(2026, 12, 31, 10, tzinfo=UTC)) is None  # nobody that day
    in_london = load(ROTA_TOML.replace("Asia/Tokyo", "Europe/London")).routing
    assert in_london.on_call_at(datetime(2026, 11, 24, 10, tzinfo=UTC)) is None


def test_the_old_single_username_stays_on_call_at_every_hour(cwd: Path) -> None:
    from datetime import UTC, datetime

    routing = load('[routing]\non_call = "boss"').routing
    for hour in range(0, 24, 5):
        assert routing.on_call_at(datetime(2026, 11, 24, hour, tzinfo=UTC)) == "boss"
    assert load("").routing.on_call_at(datetime(2026, 11, 24, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[routing]\non_call = 3", "routing.on_call: expected a username"),
        (
            '[[routing.on_call.weekly]]\nwho = "a"\ndays = ["someday"]',
            'routing.on_call.weekly[0].days[0]: "someday" is not a day',
        ),
        (
            '[[routing.on_call.weekly]]\nwho = "a"\nwindows = ["22:00-02:00"]',
            'routing.on_call.weekly[0].windows[0]: "22:00-02:00" is not HH:MM-HH:MM',
        ),
        (
            '[[routing.on_call.dates]]\ndate = "31.12.2026"\nwho = "a"',
            'routing.on_call.dates[0].date: "31.12.2026" is not a date',
        ),
        (
            '[[routing.on_call.dates]]\ndate = 2026-12-31\nwho = ""\n'
            '[routing]\non_call_email = "x@example.jp"',
            "routing.on_call_email: set routing.on_call",
        ),
    ],
)
def test_a_wrong_rota_is_refused_at_start_naming_its_key(
    cwd: Path, text: str, expected: str
) -> None:
    message = load_error(text)
    assert message.startswith("config.toml: ") and expected in message, message


# --- desk: tags and labels
def test_desk_tags_replace_the_defaults_and_labels_add_to_them(cwd: Path) -> None:
    cfg = load(
        "[desk]\n"
        'tags = [{ id = "money", ja = "お金", en = "Money" }]\n'
        'labels = [{ id = "urgent", ja = "至急", en = "Urgent" },'
        ' { id = "abuse_risk", ja = "虐待の疑い", en = "Suspected abuse" }]\n'
    )
    book = cfg.desk.book()
    assert [t.id for t in book.tags] == ["money"]
    words = {t.id: t.ja for t in book.labels}
    assert words == {
        "urgent": "至急",
        "suicide_risk": "自殺の危険",
        "immediate_danger": "差し迫った危険",
        "abuse_risk": "虐待の疑い",
    }
    assert book.normalize(["お金", "abuse_risk"]) == ["money"]  # a label is never set by hand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('tags = [{ id = "dv", ja = "DV" }]', "desk.tags[0]: expected"),
        ('tags = [{ id = "Dv x", ja = "DV", en = "DV" }]', "desk.tags[0].id: 1-40 of a-z"),
        ('tags = [{ id = "dv", ja = " ", en = "DV" }]', "desk.tags[0]: id, ja and en"),
        (
            'tags = [{ id = "a", ja = "A", en = "A" }, { id = "a", ja = "B", en = "B" }]',
            "desk.tags[1].id: 'a' is listed twice",
        ),
        ("tags = 3", "desk.tags: expected a list"),
        ("max_tags = 0", "desk.max_tags: must be >= 1"),
    ],
)
def test_bad_desk_entries_are_named(cwd: Path, text: str, expected: str) -> None:
    assert expected in load_error("[desk]\n" + text + "\n")
