"""Rules on what the store knows of a sender (returning, discretion, anonymity), applied at
intake in the same commit as her message; what the store reads back on both stores."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from inbox.core.model import NEW_SENDER, Anonymity, ChannelKind, ContactFacts, UserId
from inbox.pipeline import Intake
from routing.hours import TOKYO
from routing.rules import Rule, UrgentTriage, labeler
from storage.base import Store
from tests.factories import at, inbound, new_user

KEY = b"k" * 32
CHAT = ChannelKind.WEBCHAT


def _intake(store: Store, rules: list[Rule]) -> Intake:
    label = labeler(rules, UrgentTriage(), TOKYO)
    return Intake(store, KEY, queue_max=10, batch_max=10, ack_timeout_s=10, label=label)


@pytest.mark.both_stores  # contact_facts and set_anonymity have no contract test
async def test_contact_facts_tell_returning_discreet_and_anonymous_senders(store: Store) -> None:
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    # Senders as Intake keys them (factories.inbound keys by a plain hash).
    items = [inbound(s) for s in ("back", "open", "quiet")]
    saved = await store.save_inbound_batch(items)
    back, _, quiet = (s.conversation_id for s in saved)
    await store.close(back, actor_id=sato, now=at(1))
    await store.set_discretion(quiet, True, actor_id=UserId(sato), now=at(2))
    await store.set_anonymity(quiet, Anonymity.ANONYMOUS, actor_id=UserId(sato), now=at(2))
    keys = [(CHAT, hashlib.sha256(s.encode()).hexdigest()) for s in ("back", "open", "quiet")]
    facts = await store.contact_facts([*keys, (CHAT, "unknown"), (ChannelKind.MAIL, keys[0][1])])
    assert facts == {
        keys[0]: ContactFacts(returning=True),
        keys[1]: NEW_SENDER,  # wrote before, but her only conversation is still open
        keys[2]: ContactFacts(discretion=True, anonymity=Anonymity.ANONYMOUS),
    }
    assert await store.contact_facts([]) == {}


async def test_a_returning_consulter_is_labeled_at_intake(store: Store) -> None:
    looked_up = _count_look_ups(store)
    rules = [
        Rule(name="again", contact=(("returning", True),), add_tags=frozenset({"returning"})),
        Rule(name="quiet", contact=(("discretion", True),), skill="careful"),
    ]
    intake = _intake(store, rules)
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        first = await intake.submit(inbound("hanako").message)
        assert (await store.get_conversation(first.conversation_id)).tags == ()
        await store.close(first.conversation_id, actor_id=sato, now=at(1))
        again, stranger = await intake.submit_many(
            [inbound("hanako").message, inbound("someone").message]
        )
        await store.set_discretion(again.conversation_id, True, actor_id=UserId(sato), now=at(2))
        later = await intake.submit(inbound("hanako").message)
        writer.cancel()
    conv = await store.get_conversation(again.conversation_id)
    assert again.conversation_id != first.conversation_id and later.conversation_id == conv.id
    assert conv.tags == ("returning",) and conv.skill == "careful"
    assert (await store.get_conversation(stranger.conversation_id)).tags == ()
    assert looked_up == [1, 2, 1]  # once per batch, each sender once


@pytest.mark.both_stores  # a conversation's language, stored at intake, has no contract test
async def test_a_rule_can_ask_for_a_counselor_who_speaks_her_language(store: Store) -> None:
    rules = [Rule(name="en", contact=(("language", "en"),), language="en", skill="general")]
    intake = _intake(store, rules)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        english = await intake.submit(inbound("a", body="I need someone to talk to").message)
        japanese = await intake.submit(inbound("b", body="話を聞いてほしいです").message)
        # Her next message, in Japanese, does not change what the first one decided.
        await intake.submit(inbound("a", body="すみません").message)
        writer.cancel()
    snapshot = {w.id: w for w in (await store.routing_snapshot()).waiting}
    assert snapshot[english.conversation_id].language == "en"
    assert snapshot[japanese.conversation_id].language is None  # any counselor


def _count_look_ups(store: Store) -> list[int]:
    """The number of senders of each contact_facts call from now on."""
    looked: list[int] = []
    real = store.contact_facts

    async def counting(identities: list[tuple[ChannelKind, str]]) -> dict[object, object]:
        looked.append(len(identities))
        return await real(identities)  # type: ignore[return-value]

    store.contact_facts = counting  # type: ignore[method-assign,assignment]
    return looked


async def test_without_rules_on_stored_facts_there_is_no_look_up(store: Store) -> None:
    looked = _count_look_ups(store)
    rules = [Rule(name="ja", contact=(("language", "ja"),), skill="ja")]
    intake = _intake(store, rules)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        stored = await intake.submit(inbound("a", body="こんにちは").message)
        writer.cancel()
    assert (await store.get_conversation(stored.conversation_id)).skill == "ja"
    assert looked == []


async def test_unreadable_facts_neither_stop_the_writer_nor_lose_the_message(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(identities: list[tuple[ChannelKind, str]]) -> dict[object, object]:
        raise ValueError("'secret' is not a valid Anonymity")  # a row the code cannot read

    store.contact_facts = broken  # type: ignore[method-assign,assignment]
    rules = [Rule(name="new", contact=(("returning", False),), skill="intake")]
    intake = _intake(store, rules)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        first = await intake.submit(inbound("a", body="死にたい").message)
        second = await intake.submit(inbound("b").message)  # the writer is still running
        writer.cancel()
    conv = await store.get_conversation(first.conversation_id)
    assert conv.skill == "intake" and conv.priority == 100  # labeled as from a new sender
    assert second.conversation_id != first.conversation_id
    assert any(r.__dict__.get("action") == "facts_failed" for r in caplog.records)
