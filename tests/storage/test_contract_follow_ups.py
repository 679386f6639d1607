"""The Store contract for follow-ups (近況確認), on both stores: set, listed, cancelled before
the day, made due once (a conditional scheduled -> due, also when two try at once), its task
(a new queued conversation, or her open one marked), resolved; each with its event."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from inbox.core.errors import Conflict, NotFound, ValidationError
from inbox.core.follow_ups import FollowUpStatus, NewFollowUp
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, UserId
from storage.base import Store
from tests.factories import at, counselor, inbound

DAY = date(2026, 12, 1)


async def _closed_conversation(
    store: Store, sender: str = "a@x.jp"
) -> tuple[ConversationId, UserId]:
    """A conversation of hers that her counselor helped with and closed."""
    sato = await counselor(store, "sato")
    (first,) = await store.save_inbound_batch([inbound(sender)])
    conv = first.conversation_id
    await store.assign(conv, sato.id, actor_id=sato.id, now=at(10), capacity=None)
    await store.close(conv, actor_id=sato.id, now=at(20))
    return conv, sato.id


async def _kinds(store: Store) -> list[str]:
    return [e.kind for e in await store.list_events() if e.kind.startswith("follow_up")]


async def test_a_follow_up_is_set_listed_and_cancelled_before_its_day(store: Store) -> None:
    conv, sato = await _closed_conversation(store)
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY, note="様子を聞く"),
        actor_id=sato,
        now=at(30),
    )
    assert (made.status, made.due_on, made.note, made.counselor_id) == (
        FollowUpStatus.SCHEDULED,
        DAY,
        "様子を聞く",
        sato,
    )
    assert (made.channel, made.from_conversation_id, made.conversation_id) == (
        ChannelKind.WEBCHAT,
        conv,
        None,
    )
    source = await store.get_conversation(conv)
    assert [f.id for f in await store.follow_ups_of(source.contact_id)] == [made.id]
    assert [s.id for s in await store.scheduled_follow_ups(through=DAY)] == [made.id]
    assert await store.scheduled_follow_ups(through=date(2026, 11, 30)) == []
    cancelled = await store.cancel_follow_up(made.id, actor_id=sato, now=at(40))
    assert (cancelled.status, cancelled.resolved_by) == (FollowUpStatus.CANCELLED, sato)
    assert await store.scheduled_follow_ups(through=DAY) == []
    assert await store.make_follow_up_due(made.id, now=at(50)) is None  # cancelled stays so
    with pytest.raises(Conflict):
        await store.cancel_follow_up(made.id, actor_id=sato, now=at(60))
    with pytest.raises(NotFound):
        await store.get_follow_up(made.id + 1000)
    assert await _kinds(store) == ["follow_up_set", "follow_up_cancelled"]
    # the event log holds ids and the day, never the note
    assert all("様子" not in str(e.data) for e in await store.list_events())


async def test_on_its_day_a_new_queued_task_is_opened_once(store: Store) -> None:
    conv, sato = await _closed_conversation(store)
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato, now=at(30)
    )
    # two watchers (two instances) at the same moment: one task
    both = await asyncio.gather(
        store.make_follow_up_due(made.id, now=at(100)),
        store.make_follow_up_due(made.id, now=at(100)),
    )
    (due,) = [f for f in both if f is not None]
    assert due.status is FollowUpStatus.DUE and due.conversation_id not in (None, conv)
    assert due.conversation_id is not None
    task = await store.get_conversation(due.conversation_id)
    assert (task.status, task.channel, task.assignee_id) == (
        ConversationStatus.QUEUED,
        ChannelKind.WEBCHAT,
        None,
    )
    assert (await store.follow_up_tasks([task.id, conv])) == {task.id: due}
    # read with the queue's part it is in (queued, unassigned), in the same read
    part, tasks = await store.queue_part(statuses=[ConversationStatus.QUEUED], assignee=None)
    assert [c.id for _, c in part] == [task.id] and tasks == {task.id: due}
    assert await store.follow_ups_due() == 1
    # the router's snapshot: offered first to her counselor, with no age limit
    (waiting,) = (await store.routing_snapshot()).waiting
    assert (waiting.id, waiting.previous_assignee, waiting.previous_at) == (task.id, sato, None)
    with pytest.raises(Conflict):  # on its day it is resolved, not cancelled
        await store.cancel_follow_up(made.id, actor_id=sato, now=at(110))
    done = await store.resolve_follow_up(made.id, "unreachable", actor_id=sato, now=at(120))
    assert (done.status, done.resolved_at, done.resolved_by) == (
        FollowUpStatus.UNREACHABLE,
        at(120),
        sato,
    )
    assert await store.follow_up_tasks([task.id]) == {}
    assert await store.follow_ups_due() == 0
    with pytest.raises(Conflict):
        await store.resolve_follow_up(made.id, "done", actor_id=sato, now=at(130))
    with pytest.raises(ValidationError):
        await store.resolve_follow_up(made.id, "cancelled", actor_id=sato, now=at(130))
    assert await _kinds(store) == ["follow_up_set", "follow_up_due", "follow_up_resolved"]


async def test_her_open_conversation_becomes_the_task(store: Store) -> None:
    conv, sato = await _closed_conversation(store)
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato, now=at(30)
    )
    (again,) = await store.save_inbound_batch([inbound("a@x.jp")])  # she wrote meanwhile
    due = await store.make_follow_up_due(made.id, now=at(100))
    assert due is not None and due.conversation_id == again.conversation_id
    assert set(await store.follow_up_tasks([again.conversation_id])) == {again.conversation_id}


async def test_another_identity_of_hers_only(store: Store) -> None:
    conv, sato = await _closed_conversation(store)
    (other,) = await store.save_inbound_batch([inbound("b@x.jp")])  # another consulter
    source = await store.get_conversation(conv)
    (mine,) = await store.identities_of(source.contact_id)
    assert mine[1] is ChannelKind.WEBCHAT
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY, identity_id=mine[0]),
        actor_id=sato,
        now=at(30),
    )
    assert made.identity_id == mine[0]
    theirs = await store.get_conversation(other.conversation_id)
    (not_hers,) = await store.identities_of(theirs.contact_id)
    with pytest.raises(ValidationError):
        await store.set_follow_up(
            NewFollowUp(from_conversation_id=conv, due_on=DAY, identity_id=not_hers[0]),
            actor_id=sato,
            now=at(30),
        )
    with pytest.raises(NotFound):
        await store.set_follow_up(
            NewFollowUp(from_conversation_id=ConversationId(9999), due_on=DAY),
            actor_id=sato,
            now=at(30),
        )


async def test_linked_consulters_keep_their_follow_ups(store: Store) -> None:
    conv, sato = await _closed_conversation(store)
    (other,) = await store.save_inbound_batch([inbound("b@x.jp")])
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=other.conversation_id, due_on=DAY),
        actor_id=sato,
        now=at(30),
    )
    kept, _ = await store.link_contacts(
        conv, other.conversation_id, actor_id=sato, reason="同じ方", now=at(40)
    )
    assert [f.id for f in await store.follow_ups_of(kept)] == [made.id]
