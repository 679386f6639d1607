"""Log output: JSON lines with action and extras, context ids, redaction, exceptions, text form."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
import pytest

from inbox.core.errors import StorageError, ValidationError
from inbox.core.model import ConversationId, MessageId
from inbox.logging import (
    configure_logging,
    conversation_id_var,
    log_loop_error,
    message_id_var,
    request_id_var,
)
from inbox.web.server import next_request_id

log = logging.getLogger("inbox.test")


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    """Capture what configure_logging's handler writes; restore the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_fixed_fields_action_and_extras(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    before = datetime.now(UTC)
    log.info("stored %s", "one", extra={"action": "message_stored", "message_id": 7})
    log.warning("日本語も読める", extra={"action": "queue_high", "depth": 9000, "ids": [1, 2]})
    first, second = json_lines(out)
    assert first == {
        "ts": first["ts"],
        "level": "INFO",
        "logger": "inbox.test",
        "msg": "stored one",
        "action": "message_stored",
        "message_id": 7,
    }
    assert isinstance(first["ts"], str)
    assert first["ts"].endswith("Z")
    assert datetime.fromisoformat(first["ts"]) >= before.replace(microsecond=0)
    assert second["msg"] == "日本語も読める"
    assert (second["level"], second["depth"], second["ids"]) == ("WARNING", 9000, [1, 2])


def test_a_record_without_action_has_null_action(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    log.info("plain")
    assert json_lines(out)[0]["action"] is None


def test_extras_that_are_not_json_are_skipped(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    log.info("x", extra={"action": "a", "obj": object(), "ok": {"n": 1}, "level": "spoof"})
    (line,) = json_lines(out)
    assert "obj" not in line
    assert line["ok"] == {"n": 1}
    assert line["level"] == "INFO"  # extras cannot overwrite the fixed fields


def test_level_filters_records(out: io.StringIO) -> None:
    configure_logging("WARNING", "json", out)
    log.info("hidden")
    log.warning("shown")
    assert [line["msg"] for line in json_lines(out)] == ["shown"]


def test_context_ids_are_added_when_set(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    log.info("before")
    tokens = (
        request_id_var.set("req-1"),
        conversation_id_var.set(ConversationId(5)),
        message_id_var.set(MessageId(6)),
    )
    try:
        log.info("during")
        log.info("explicit", extra={"message_id": 99})
    finally:
        message_id_var.reset(tokens[2])
        conversation_id_var.reset(tokens[1])
        request_id_var.reset(tokens[0])
    before, during, explicit = json_lines(out)
    assert not {"request_id", "conversation_id", "message_id"} & before.keys()
    assert (during["request_id"], during["conversation_id"], during["message_id"]) == (
        "req-1",
        5,
        6,
    )
    assert explicit["message_id"] == 99  # an explicit extra wins over the ambient id


async def test_tasks_inherit_context_ids(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)

    async def work() -> None:
        log.info("in task", extra={"action": "routed"})

    token = request_id_var.set("req-task")
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(work(), name="work")
    finally:
        request_id_var.reset(token)
    assert json_lines(out)[0]["request_id"] == "req-task"


def test_personal_data_and_secrets_are_redacted(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    sensitive = {
        "body": "I need help",
        "text": "hello",
        "sender": "a@example.org",
        "address": "b@example.org",
        "recipient": "+819012345678",
        "phone": "+819012345678",
        "email": "c@example.org",
        "token": "tok-1a2b",
        "password": "pw-3c4d",
        "auth_token": "tok-5e6f",
        "sender_address": "d@example.org",
    }
    log.info("oops", extra={"action": "careless", "message_id": 3, **sensitive})
    (line,) = json_lines(out)
    assert {key: line[key] for key in sensitive} == dict.fromkeys(sensitive, "[redacted]")
    assert line["message_id"] == 3
    for value in sensitive.values():
        assert value not in out.getvalue()


def test_exceptions_are_rendered_on_one_line(out: io.StringIO) -> None:
    configure_logging("INFO", "json", out)
    try:
        raise ValidationError("must be a number", field="capacity")
    except ValidationError:
        log.exception("failed", extra={"action": "send_failed"})
    assert len(out.getvalue().splitlines()) == 1
    (line,) = json_lines(out)
    assert line["level"] == "ERROR"
    assert isinstance(line["exc"], str)
    assert line["exc"].startswith("Traceback (most recent call last):")
    assert 'raise ValidationError("must be a number", field="capacity")' in line["exc"]
    assert line["exc"].endswith("inbox.core.errors.ValidationError: capacity: must be a number")


MARK = "PRIVATE-4f7a"  # stands for a body, an address, a note: must never reach a log


def _failed_insert() -> None:
    """A StorageError as the stores raise it, the driver's error quoting the arguments as its
    cause; that one raised while handling a ValueError about the same data."""
    try:
        try:
            int(MARK)
        except ValueError:
            raise asyncpg.DataError(f"invalid input for query argument $4: [{MARK!r}]")  # noqa: B904
    except asyncpg.DataError as exc:
        raise StorageError("PostgreSQL DataError (SQLSTATE 22000)") from exc


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_tracebacks_keep_types_and_frames_but_not_driver_messages(
    out: io.StringIO, fmt: str
) -> None:
    configure_logging("INFO", fmt, out)
    try:
        _failed_insert()
    except StorageError:
        log.error("batch not stored", exc_info=True, extra={"action": "intake_batch_failed"})
    written = out.getvalue()
    assert MARK not in written
    exc = json_lines(out)[0]["exc"] if fmt == "json" else written
    assert isinstance(exc, str)
    assert "asyncpg.exceptions.DataError (SQLSTATE 22000)\n" in exc  # type and SQLSTATE stay
    assert 'in _failed_insert\n    raise StorageError("PostgreSQL DataError' in exc  # and frames
    assert exc.count("The above exception was the direct cause") == 1
    assert exc.count("During handling of the above exception") == 1
    assert exc.rstrip().endswith(
        "inbox.core.errors.StorageError: PostgreSQL DataError (SQLSTATE 22000)"
    )


def test_stdlib_and_sqlite_errors_show_only_what_the_system_says(out: io.StringIO) -> None:
    configure_logging("INFO", "text", out)
    db = sqlite3.connect(":memory:")
    failures: list[BaseException] = [
        UnicodeEncodeError(
            "utf-8", f"{MARK}\udc80", len(MARK), len(MARK) + 1, "surrogates not allowed"
        ),
        FileNotFoundError(2, "No such file or directory", f"/tmp/{MARK}"),
        ExceptionGroup("unhandled errors in a TaskGroup", [KeyError(MARK), ValueError(MARK)]),
    ]
    try:
        db.execute(f"SELECT * FROM {MARK.replace('-', '_')}")
    except sqlite3.Error as exc:
        failures.append(exc)
    for failure in failures:
        log.error("failed", exc_info=failure)
    text = out.getvalue()
    assert MARK not in text and MARK.replace("-", "_") not in text
    assert "\nUnicodeEncodeError (encoding utf-8, surrogates not allowed)\n" in text
    assert "\nFileNotFoundError (errno 2, No such file or directory)\n" in text
    assert "\n    KeyError\n" in text and "\n    ValueError\n" in text  # each of the group
    assert text.rstrip().endswith("sqlite3.OperationalError (SQLITE_ERROR)")
    db.close()


async def test_the_loops_unhandled_errors_are_logged_without_the_tasks_repr(
    out: io.StringIO,
) -> None:
    configure_logging("INFO", "json", out)

    async def fail() -> None:
        raise asyncpg.DataError(f"invalid input for query argument $1: {MARK!r}")

    task = asyncio.get_running_loop().create_task(fail(), name="lost")
    await asyncio.wait([task])
    assert MARK in repr(task)  # what asyncio's own handler would print
    context = {"message": "Task exception was never retrieved", "exception": task.exception()}
    log_loop_error(asyncio.get_running_loop(), {**context, "future": task})
    (line,) = json_lines(out)
    assert MARK not in out.getvalue()
    assert (line["action"], line["msg"]) == ("loop_error", "Task exception was never retrieved")
    assert isinstance(line["exc"], str)
    assert line["exc"].endswith("asyncpg.exceptions.DataError (SQLSTATE 22000)")


def test_text_format_for_people(out: io.StringIO) -> None:
    configure_logging("DEBUG", "text", out)
    token = request_id_var.set("r1")
    try:
        log.info("stored", extra={"action": "message_stored", "message_id": 7, "note": "two words"})
    finally:
        request_id_var.reset(token)
    log.debug("no action", extra={"email": "x@example.org"})
    first, second = out.getvalue().splitlines()
    assert re.fullmatch(
        r'\d\d:\d\d:\d\d INFO    message_stored stored message_id=7 note="two words" request_id=r1',
        first,
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d DEBUG   - no action email=\[redacted\]", second)


def test_text_format_renders_exceptions(out: io.StringIO) -> None:
    configure_logging("INFO", "text", out)
    try:
        raise KeyError("k")
    except KeyError:
        log.exception("failed", extra={"action": "crashed"})
    text = out.getvalue()
    assert " ERROR   crashed failed\nTraceback (most recent call last):" in text
    assert text.rstrip().endswith("\nKeyError")  # not the key: it may be someone's address


def test_configure_logging_is_idempotent_and_keeps_other_handlers(out: io.StringIO) -> None:
    root = logging.getLogger()
    other = logging.NullHandler()
    root.addHandler(other)
    first = io.StringIO()
    configure_logging("INFO", "json", first)
    configure_logging("INFO", "json", out)
    log.info("once", extra={"action": "a"})
    assert first.getvalue() == ""
    assert len(json_lines(out)) == 1
    assert other in root.handlers


def test_unknown_format_is_rejected(out: io.StringIO) -> None:
    with pytest.raises(ValueError, match="'json' or 'text'"):
        configure_logging("INFO", "yaml", out)


def test_request_ids_are_twelve_hex_digits_distinct_within_the_process() -> None:
    ids = [next_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 12 and int(i, 16) >= 0 for i in ids)
    assert len({i[:6] for i in ids}) == 1  # this process's tag, then a count
