"""The Store contract for partner agencies and referrals (issue 17, casework), on both stores:
the directory kept (unique name and area, archived not deleted, lists filtered), imports as one
upsert with what each row did, referrals on a conversation or a call with their contact, and
each change's event in its own transaction, never with a note."""

from __future__ import annotations

from datetime import date

import pytest

from inbox.core.agencies import AgencyDraft, AgencyFilter, AgencyId, NewReferral, ReferralId
from inbox.core.errors import Conflict, DuplicateKey, NotFound
from inbox.core.model import ConversationId, Role, User
from inbox.core.phone import CallDirection, Caller, NewCall
from storage.base import Store
from tests.factories import at, inbound, new_user

POLICE = AgencyDraft(name="中央警察署", kind="police", area="中央区", contact="03-0000-0000")
SHELTER = AgencyDraft(name="みどりの家", kind="shelter", area="北区", note="夜間も可")
SECRET = "ないしょのメモ"


async def boss(store: Store) -> User:
    return await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))


async def test_agencies_are_added_edited_archived_and_listed(store: Store) -> None:
    me = await boss(store)
    police = await store.create_agency(POLICE, actor_id=me.id, now=at(1))
    shelter = await store.create_agency(SHELTER, actor_id=me.id, now=at(2))
    assert police.draft() == POLICE and not police.archived and police.created_at == at(1)
    assert await store.get_agency(police.id) == police

    edited = await store.update_agency(
        police.id,
        AgencyDraft(name="中央警察署", kind="police", area="中央区", note="生活安全課"),
        actor_id=me.id,
        now=at(3),
    )
    assert (edited.note, edited.contact, edited.updated_at) == ("生活安全課", "", at(3))

    archived = await store.set_agency_archived(shelter.id, True, actor_id=me.id, now=at(4))
    assert archived.archived
    again = await store.set_agency_archived(shelter.id, True, actor_id=me.id, now=at(5))
    assert again.updated_at == at(4)  # already archived: unchanged, no event

    assert [a.id for a in await store.list_agencies()] == [police.id]
    assert [a.id for a in await store.list_agencies(AgencyFilter(archived=True))] == [shelter.id]
    both = await store.list_agencies(AgencyFilter(archived=None))
    assert {a.id for a in both} == {police.id, shelter.id}
    assert [
        a.id for a in await store.list_agencies(AgencyFilter(archived=None, kind="shelter"))
    ] == [shelter.id]
    assert await store.list_agencies(AgencyFilter(area="北区")) == []  # archived: not active
    assert [a.id for a in await store.list_agencies(AgencyFilter(area="中央区"))] == [police.id]

    restored = await store.set_agency_archived(shelter.id, False, actor_id=me.id, now=at(6))
    assert not restored.archived
    kinds = [(e.kind, e.actor_id, e.data) for e in await store.list_events()]
    assert [k for k in kinds if k[0].startswith("agenc")] == [
        ("agency_created", me.id, {"agency_id": police.id, "kind": "police"}),
        ("agency_created", me.id, {"agency_id": shelter.id, "kind": "shelter"}),
        ("agency_updated", me.id, {"agency_id": police.id, "kind": "police"}),
        ("agency_archived", me.id, {"agency_id": shelter.id}),
        ("agency_restored", me.id, {"agency_id": shelter.id}),
    ]
    assert "生活安全課" not in repr(kinds) and "03-0000" not in repr(kinds)


async def test_name_and_area_are_unique_with_a_clear_error(store: Store) -> None:
    me = await boss(store)
    police = await store.create_agency(POLICE, actor_id=me.id, now=at(1))
    with pytest.raises(DuplicateKey, match="中央警察署") as taken:
        await store.create_agency(POLICE, actor_id=me.id, now=at(2))
    assert taken.value.key == "name"
    # the same name in another area is another agency
    other = await store.create_agency(
        AgencyDraft(name="中央警察署", kind="police", area="南区"), actor_id=me.id, now=at(3)
    )
    with pytest.raises(DuplicateKey):
        await store.update_agency(other.id, POLICE, actor_id=me.id, now=at(4))
    await store.set_agency_archived(police.id, True, actor_id=me.id, now=at(5))
    with pytest.raises(DuplicateKey):  # archived still holds its key
        await store.create_agency(POLICE, actor_id=me.id, now=at(6))
    with pytest.raises(NotFound):
        await store.update_agency(AgencyId(10**6), POLICE, actor_id=me.id, now=at(7))
    with pytest.raises(NotFound):
        await store.get_agency(AgencyId(2**63))
    assert len([e for e in await store.list_events() if e.kind == "agency_created"]) == 2


async def test_an_import_upserts_in_one_go_and_says_what_each_row_did(store: Store) -> None:
    me = await boss(store)
    police = await store.create_agency(POLICE, actor_id=me.id, now=at(1))
    shelter = await store.create_agency(SHELTER, actor_id=me.id, now=at(2))
    await store.set_agency_archived(shelter.id, True, actor_id=me.id, now=at(3))
    rows = [
        (2, AgencyDraft(name="中央警察署", kind="police", area="中央区", contact="110")),
        (3, SHELTER),
        (5, AgencyDraft(name="ハローワーク中央", kind="hello_work", area="中央区")),
    ]
    preview = await store.preview_agency_import(rows)
    assert not preview.applied
    assert [(r.line, r.action, r.agency_id, r.archived) for r in preview.rows] == [
        (2, "update", police.id, False),
        (3, "same", shelter.id, True),
        (5, "add", None, False),
    ]
    assert len(await store.list_agencies(AgencyFilter(archived=None))) == 2  # nothing written

    done = await store.import_agencies(rows, actor_id=me.id, now=at(4))
    assert done.applied and (done.count("add"), done.count("update"), done.count("same")) == (
        1,
        1,
        1,
    )
    added = done.rows[2].agency_id
    assert added is not None
    assert (await store.get_agency(police.id)).contact == "110"
    assert (await store.get_agency(shelter.id)).archived  # an import keeps it archived
    assert (await store.get_agency(added)).kind == "hello_work"
    [event] = [e for e in await store.list_events() if e.kind == "agencies_imported"]
    assert event.actor_id == me.id
    assert event.data == {"added": [added], "updated": [police.id], "unchanged": 1}


async def test_an_import_is_all_or_nothing(store: Store) -> None:
    me = await boss(store)
    rows = [(2, POLICE), (3, POLICE)]  # the reader refuses this; the database does too
    with pytest.raises(DuplicateKey):
        await store.import_agencies(rows, actor_id=me.id, now=at(1))
    assert await store.list_agencies(AgencyFilter(archived=None)) == []
    assert [e for e in await store.list_events() if e.kind == "agencies_imported"] == []


async def test_referrals_on_a_conversation_take_its_contact_and_keep_the_note_out_of_events(
    store: Store,
) -> None:
    me = await boss(store)
    police = await store.create_agency(POLICE, actor_id=me.id, now=at(1))
    [stored] = await store.save_inbound_batch([inbound()])
    conv = await store.get_conversation(ConversationId(stored.conversation_id))
    made = await store.record_referral(
        NewReferral(
            agency_id=police.id,
            kind="handover",
            on_day=date(2026, 11, 21),
            note=SECRET,
            staff_id=me.id,
            conversation_id=conv.id,
        ),
        now=at(2),
    )
    assert (made.conversation_id, made.contact_id, made.call_id) == (conv.id, conv.contact_id, None)
    assert (made.agency_name, made.agency_kind, made.kind) == ("中央警察署", "police", "handover")
    assert (made.on_day, made.note, made.staff_id, made.created_at) == (
        date(2026, 11, 21),
        SECRET,
        me.id,
        at(2),
    )
    later = await store.record_referral(
        NewReferral(
            agency_id=police.id,
            kind="information",
            on_day=date(2026, 11, 20),
            staff_id=me.id,
            conversation_id=conv.id,
        ),
        now=at(3),
    )
    assert [r.id for r in await store.referrals_of(conversation_id=conv.id)] == [later.id, made.id]
    assert await store.get_referral(made.id) == made

    gone = await store.delete_referral(made.id, actor_id=me.id, now=at(4))
    assert gone == made
    assert [r.id for r in await store.referrals_of(conversation_id=conv.id)] == [later.id]
    with pytest.raises(NotFound):
        await store.delete_referral(made.id, actor_id=me.id, now=at(5))
    found = [e for e in await store.list_events() if e.kind.startswith("referral_")]
    assert [(e.kind, e.conversation_id, e.actor_id) for e in found] == [
        ("referral_recorded", conv.id, me.id),
        ("referral_recorded", conv.id, me.id),
        ("referral_deleted", conv.id, me.id),
    ]
    assert found[0].data == {
        "referral_id": made.id,
        "agency_id": police.id,
        "kind": "handover",
        "on_day": "2026-11-21",
        "call_id": None,
    }
    assert SECRET not in repr([e.data for e in await store.list_events()])


async def test_referrals_on_calls_and_what_they_refuse(store: Store) -> None:
    me = await boss(store)
    police = await store.create_agency(POLICE, actor_id=me.id, now=at(1))
    shelter = await store.create_agency(SHELTER, actor_id=me.id, now=at(2))
    await store.set_agency_archived(shelter.id, True, actor_id=me.id, now=at(3))
    withheld = await store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=at(4),
            duration_s=60,
            outcome="reached",
            staff_id=me.id,
            withheld=True,
        ),
        now=at(4),
        retry=lambda tries, window: pytest.fail("no callback here"),
    )
    call_id = withheld.call.id

    def on_call(agency: AgencyId, target: int = call_id) -> NewReferral:
        return NewReferral(
            agency_id=agency,
            kind="information",
            on_day=date(2026, 11, 22),
            staff_id=me.id,
            call_id=target,
        )

    made = await store.record_referral(on_call(police.id), now=at(5))
    assert (made.call_id, made.conversation_id, made.contact_id) == (call_id, None, None)
    assert [r.id for r in await store.referrals_of(call_id=call_id)] == [made.id]
    with pytest.raises(Conflict, match="archived"):
        await store.record_referral(on_call(shelter.id), now=at(6))
    with pytest.raises(NotFound):
        await store.record_referral(on_call(AgencyId(10**6)), now=at(6))
    with pytest.raises(NotFound):
        await store.record_referral(on_call(police.id, 10**6), now=at(6))
    with pytest.raises(NotFound):
        await store.record_referral(
            NewReferral(
                agency_id=police.id,
                kind="handover",
                on_day=date(2026, 11, 22),
                conversation_id=ConversationId(10**6),
            ),
            now=at(6),
        )
    known = await store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=at(7),
            duration_s=60,
            outcome="reached",
            staff_id=me.id,
            caller=Caller(identity_hash="h-" + "b" * 60, e164="+819012345678"),
        ),
        now=at(7),
        retry=lambda tries, window: pytest.fail("no callback here"),
    )
    hers = await store.record_referral(on_call(police.id, known.call.id), now=at(8))
    assert known.call.conversation_id is not None  # her phone conversation: the call is on it
    assert (hers.conversation_id, hers.contact_id) == (
        known.call.conversation_id,
        known.call.contact_id,
    )
    assert [r.id for r in await store.referrals_of(conversation_id=hers.conversation_id)] == [
        hers.id
    ]
    assert await store.referrals_of(call_id=2**63) == []
    with pytest.raises(NotFound):
        await store.get_referral(ReferralId(10**6))
    assert len([e for e in await store.list_events() if e.kind == "referral_recorded"]) == 2
