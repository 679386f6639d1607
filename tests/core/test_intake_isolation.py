"""No single message fails a batch, and nothing stops the intake writer: with the real poison
(text that never went through inbox.core.text) on SQLite and on PostgreSQL, and with faults."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import pytest

from inbox.core.errors import DatabaseUnavailable, IntakeBusy, StorageError, Unstorable
from inbox.core.model import InboundMessage, StoredInbound
from inbox.logging import JsonFormatter
from inbox.pipeline import Intake, Stored
from storage.base import Store
from tests.factories import inbound
from tests.fakes import RefusingIntake

KEY = b"k" * 32
SECRET = "誰にも言えない秘密"  # in a refused message: must reach no log line


def message(sender: str, body: str = "こんにちは") -> InboundMessage:
    return inbound(sender, body=body).message


@pytest.fixture
async def intake(store: Store) -> AsyncIterator[Intake]:
    writer_intake = Intake(store, KEY, queue_max=100, batch_max=50, ack_timeout_s=10)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(writer_intake.run_writer())
        yield writer_intake
        writer.cancel()


def refusing(store: Store, marker: str, error: Exception) -> RefusingIntake:
    """The store refuses any batch holding a message whose body contains `marker`."""
    return RefusingIntake(store, lambda msg: marker in msg.body, error)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as the JSON line a collector would get, extras and tracebacks included."""
    return "\n".join(JsonFormatter().format(r) for r in caplog.records)


async def bodies(store: Store, answers: Sequence[object]) -> list[str]:
    found = []
    for answer in answers:
        if isinstance(answer, StoredInbound):
            (msg,) = await store.list_messages(answer.conversation_id)
            found.append(msg.body)
    return found


@pytest.mark.both_stores  # PostgreSQL refuses a NUL that SQLite keeps
@pytest.mark.parametrize("poison", ["\ud83d", "a\x00b"], ids=["lone surrogate", "NUL"])
async def test_the_real_poison_is_refused_alone_and_the_rest_stored(
    store: Store, intake: Intake, poison: str, caplog: pytest.LogCaptureFixture
) -> None:
    msgs = [message(f"s{i}", f"{SECRET}{poison}" if i == 2 else f"m{i}") for i in range(5)]
    answers = await intake.submit_each(msgs)
    refused = [i for i, a in enumerate(answers) if isinstance(a, Unstorable)]
    if poison == "a\x00b" and type(store).__name__ == "SqliteStore":
        assert refused == []  # SQLite keeps a NUL: the edges take it out for both (inbox.core.text)
    else:
        assert refused == [2]
        assert str(answers[2]) == "body: this message could not be stored; it was not kept"
    assert await bodies(store, answers[:2] + answers[3:]) == ["m0", "m1", "m3", "m4"]
    # the writer goes on
    assert await bodies(store, [await intake.submit(message("later", "後で"))]) == ["後で"]
    assert "intake_message_refused" in logged(caplog) or refused == []
    assert SECRET not in logged(caplog)


async def test_a_refused_message_fails_only_its_own_delivery(
    store: Store, intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = refusing(store, "POISON", RuntimeError("a bug"))
    monkeypatch.setattr(store, "save_inbound_batch", faults)
    good = [asyncio.ensure_future(intake.offer(message(f"g{i}", f"g{i}"))) for i in range(6)]
    bad = asyncio.ensure_future(intake.offer(message("bad", "POISON")))
    more = asyncio.ensure_future(intake.submit_many([message("m", "m1"), message("m", "m2")]))
    with pytest.raises(Unstorable) as refused:
        await bad
    assert refused.value.field == "body"
    assert await bodies(store, await asyncio.gather(*good)) == [f"g{i}" for i in range(6)]
    stored_more = await more
    assert [m.body for m in await store.list_messages(stored_more[0].conversation_id)] == [
        "m1",
        "m2",
    ]
    # one batch of 9, then halves down to the one message: 9 x, 4 ok, 5 x, 2 ok, 3 x, 1 x, 2 ok
    assert faults.calls == 7


async def test_a_delivery_with_a_refused_message_says_which(
    store: Store, intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "save_inbound_batch", refusing(store, "POISON", ValueError()))
    msgs = [message("a", "one"), message("b", "POISON"), message("c", "three")]
    answers = await intake.submit_each(msgs)
    assert [type(a) for a in answers] == [StoredInbound, Unstorable, StoredInbound]
    with pytest.raises(Unstorable):
        await intake.submit_many([message("d", "four"), message("e", "POISON")])
    assert len(await bodies(store, answers)) == 2


async def test_a_failure_that_is_no_message_s_fails_the_batch_unsplit(
    store: Store, intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A StorageError that is not a refused value (here: one nobody classified) says nothing
    about any one message: every source retries, none is told its message was not kept."""
    faults = refusing(store, "", StorageError("PostgreSQL InternalServerError (SQLSTATE XX000)"))
    monkeypatch.setattr(store, "save_inbound_batch", faults)
    with pytest.raises(IntakeBusy):
        await intake.submit_many([message(f"s{i}") for i in range(4)])
    assert faults.calls == 1  # not split down to refusals


async def test_an_unreachable_database_fails_the_batch_for_its_sources_to_retry(
    store: Store, intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = refusing(store, "", DatabaseUnavailable("connection refused"))  # every batch
    monkeypatch.setattr(store, "save_inbound_batch", faults)
    with pytest.raises(IntakeBusy, match="retry shortly"):
        await intake.submit_many([message(f"s{i}") for i in range(4)])
    assert faults.calls == 1  # not split: each half would only fail the same way
    monkeypatch.undo()
    assert await bodies(store, [await intake.submit(message("back", "戻った"))]) == ["戻った"]


async def test_a_failure_after_the_commit_does_not_stop_the_writer(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def on_stored(stored: Sequence[Stored]) -> None:
        calls.append(len(stored))
        if len(calls) == 1:
            raise RuntimeError(SECRET)

    intake = Intake(store, KEY, queue_max=10, batch_max=10, ack_timeout_s=10, on_stored=on_stored)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        first = await intake.submit(message("a", "first"))  # stored: its answer was given
        second = await intake.submit(message("b", "second"))
        writer.cancel()
    assert await bodies(store, [first, second]) == ["first", "second"]
    assert calls == [1, 1]
    (failed,) = [r for r in caplog.records if getattr(r, "action", "") == "intake_writer_failed"]
    assert failed.levelno == logging.ERROR and failed.exc_info is not None
    assert failed.exc_info[0] is RuntimeError
    assert SECRET not in logged(caplog)
