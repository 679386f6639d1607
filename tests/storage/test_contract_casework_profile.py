"""The Store contract for casework's topics and age group, and activities outside conversations
(issue 17). On both stores."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from inbox.core.activity import ActivityDraft
from inbox.core.errors import NotFound, PermissionDenied
from inbox.core.model import ContactId, ConversationId, Role
from inbox.core.phone import CallDirection, NewCall
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user


async def test_topics_of_a_conversation_are_replaced_with_an_event_of_ids(store: Store) -> None:
    sato = await counselor(store, "sato")
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp")])
    conv_id = ConversationId(stored.conversation_id)
    assert await store.conversation_topics(conv_id) == ()

    got = await store.set_conversation_topics(
        conv_id, ["work", "dv", "work"], actor_id=sato.id, now=at(1)
    )
    assert got == ("dv", "work") == await store.conversation_topics(conv_id)
    got = await store.set_conversation_topics(
        conv_id, ["housing", "dv"], actor_id=sato.id, now=at(2)
    )
    assert await store.conversation_topics(conv_id) == ("dv", "housing")
    # the same set again writes nothing
    await store.set_conversation_topics(conv_id, ["dv", "housing"], actor_id=sato.id, now=at(3))
    found = [e for e in await store.list_events() if e.kind == "topics_set"]
    assert [e.data for e in found] == [
        {"topics": ["dv", "work"], "added": ["dv", "work"], "removed": []},
        {"topics": ["dv", "housing"], "added": ["housing"], "removed": ["work"]},
    ]
    assert all(e.conversation_id == conv_id and e.actor_id == sato.id for e in found)

    # a closed conversation keeps them and may still be given them
    await store.close(conv_id, actor_id=sato.id, now=at(4))
    assert await store.set_conversation_topics(conv_id, [], actor_id=sato.id, now=at(5)) == ()
    assert await store.conversation_topics(conv_id) == ()
    with pytest.raises(NotFound):
        await store.set_conversation_topics(
            ConversationId(9999), ["dv"], actor_id=sato.id, now=at(6)
        )


async def test_topics_of_a_call_are_its_own(store: Store) -> None:
    phone = await store.create_user(
        new_user("phone", roles=frozenset({Role.PHONE_STAFF})), now=at(0)
    )
    logged = await store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=at(0),
            duration_s=30,
            outcome="no_answer",
            staff_id=phone.id,
            withheld=True,
        ),
        now=at(60),
        retry=lambda tries, window: None,  # type: ignore[arg-type,return-value]
    )
    call_id = logged.call.id
    assert await store.set_call_topics(call_id, ["poverty"], actor_id=phone.id, now=at(61)) == (
        "poverty",
    )
    assert await store.call_topics(call_id) == ("poverty",)
    (event,) = [e for e in await store.list_events() if e.kind == "topics_set"]
    assert event.data["call_id"] == call_id and event.conversation_id is None
    with pytest.raises(NotFound):
        await store.set_call_topics(99999, ["dv"], actor_id=phone.id, now=at(62))


async def test_age_group_is_set_and_cleared_on_her_contact(store: Store) -> None:
    sato = await counselor(store, "sato")
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp")])
    conv = await store.get_conversation(ConversationId(stored.conversation_id))
    contact = conv.contact_id
    assert await store.age_group_of(contact) is None

    assert (
        await store.set_age_group(
            contact, "30s", actor_id=sato.id, now=at(1), conversation_id=conv.id
        )
        == "30s"
    )
    assert await store.age_group_of(contact) == "30s"
    await store.set_age_group(contact, "30s", actor_id=sato.id, now=at(2))  # no change
    assert await store.set_age_group(contact, "unknown", actor_id=sato.id, now=at(3)) is None
    assert await store.age_group_of(contact) is None
    await store.set_age_group(contact, None, actor_id=sato.id, now=at(4))  # still none
    found = [e for e in await store.list_events() if e.kind == "age_group_set"]
    assert [(e.data, e.conversation_id) for e in found] == [
        ({"age_group": "30s", "before": "unknown"}, conv.id),
        ({"age_group": "unknown", "before": "30s"}, None),
    ]
    with pytest.raises(NotFound):
        await store.set_age_group(ContactId(9999), "20s", actor_id=sato.id, now=at(5))
    with pytest.raises(NotFound):
        await store.age_group_of(ContactId(9999))


async def test_activities_are_logged_edited_deleted_and_listed_by_period(store: Store) -> None:
    sato = await counselor(store, "sato")
    kato = await counselor(store, "kato")
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    draft = ActivityDraft(
        kind="outreach",
        day=date(2026, 4, 1),
        place_kind="公民館",
        people=5,
        new_people=2,
        note="秘密のメモ",
    )
    made = await store.add_activity(draft, staff_id=sato.id, now=at(1))
    assert made.draft == draft and made.staff_id == sato.id
    assert made.created_at == at(1) == made.updated_at
    older = await store.add_activity(
        dataclasses.replace(draft, kind="talk", day=date(2026, 3, 31), note=""),
        staff_id=kato.id,
        now=at(2),
    )
    later = await store.add_activity(
        dataclasses.replace(draft, kind="event", day=date(2026, 6, 1)), staff_id=kato.id, now=at(3)
    )
    # a fiscal year: April to March, newest day first
    fy = await store.activities_between(date(2026, 4, 1), date(2027, 3, 31))
    assert [a.id for a in fy] == [later.id, made.id]
    # the totals count every one of the period, however few are listed
    assert [
        a.id for a in await store.activities_between(date(2026, 4, 1), date(2027, 3, 31), limit=1)
    ] == [later.id]
    assert await store.activity_totals(date(2026, 4, 1), date(2027, 3, 31)) == {
        "outreach": (1, 5, 2),
        "event": (1, 5, 2),
    }
    assert [a.id for a in await store.activities_between(date(2026, 3, 1), date(2026, 3, 31))] == [
        older.id
    ]

    # hers to edit; another's only for a supervisor (owner None)
    edited = await store.update_activity(
        made.id,
        dataclasses.replace(draft, people=6, new_people=6),
        actor_id=sato.id,
        owner=sato.id,
        now=at(4),
    )
    assert (edited.draft.people, edited.draft.new_people, edited.updated_at) == (6, 6, at(4))
    assert edited.created_at == at(1) and edited.staff_id == sato.id
    with pytest.raises(PermissionDenied):
        await store.update_activity(made.id, draft, actor_id=kato.id, owner=kato.id, now=at(5))
    with pytest.raises(PermissionDenied):
        await store.delete_activity(made.id, actor_id=kato.id, owner=kato.id, now=at(5))
    assert (await store.get_activity(made.id)).draft.people == 6
    await store.delete_activity(older.id, actor_id=boss.id, owner=None, now=at(6))
    await store.delete_activity(made.id, actor_id=sato.id, owner=sato.id, now=at(7))
    with pytest.raises(NotFound):
        await store.get_activity(made.id)
    with pytest.raises(NotFound):
        await store.delete_activity(made.id, actor_id=boss.id, owner=None, now=at(8))
    with pytest.raises(NotFound):
        await store.update_activity(made.id, draft, actor_id=boss.id, owner=None, now=at(8))

    found = [e for e in await store.list_events() if e.kind.startswith("activity_")]
    assert [e.kind for e in found] == [
        "activity_logged",
        "activity_logged",
        "activity_logged",
        "activity_updated",
        "activity_deleted",
        "activity_deleted",
    ]
    assert found[0].data == {
        "id": made.id,
        "kind": "outreach",
        "day": "2026-04-01",
        "people": 5,
        "new": 2,
    }
    assert found[4].actor_id == boss.id
    # the note and the place never reach the event log
    assert all("秘密" not in repr(e.data) and "公民館" not in repr(e.data) for e in found)
