"""One consulter across channels on both stores: a supervisor links two contacts, so her
conversations are one timeline under one alias, with the stricter privacy of the two; her chat
still shows only its own address's conversations, and the event holds no address."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from inbox.core.agencies import AgencyDraft, NewReferral
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import Anonymity, ChannelKind, ContactId, ConversationId, stricter_anonymity
from inbox.core.phone import CallDirection, CloseCallback, NewCall
from inbox.core.report_facts import TOTAL, FactsQuery
from storage.base import Store
from tests.factories import at, counselor, inbound

MAIL, CHAT = "hanako@example.jp", "chat-session-key"
CHAT_KEY = hashlib.sha256(CHAT.encode()).hexdigest()  # how tests.factories keys an address


async def test_linking_merges_her_contacts_into_one_timeline_with_the_stricter_privacy(
    store: Store,
) -> None:
    boss = await counselor(store, "boss")
    (mail,) = await store.save_inbound_batch(
        [inbound(MAIL, channel=ChannelKind.MAIL, body="メールで相談します")]
    )
    await store.close(mail.conversation_id, actor_id=boss.id, now=at(1), outcome="listened")
    (again,) = await store.save_inbound_batch(
        [inbound(MAIL, channel=ChannelKind.MAIL, body="またメールです")]
    )
    (chat,) = await store.save_inbound_batch(
        [inbound(CHAT, channel=ChannelKind.WEBCHAT, body="チャットで話したい")]
    )
    (stranger,) = await store.save_inbound_batch([inbound("other@example.jp")])
    a = (await store.get_conversation(chat.conversation_id)).contact_id
    b = (await store.get_conversation(again.conversation_id)).contact_id
    assert a != b
    await store.set_discretion(again.conversation_id, True, actor_id=boss.id, now=at(2))
    await store.set_anonymity(
        chat.conversation_id, Anonymity.PSEUDONYMOUS, actor_id=boss.id, now=at(2)
    )
    await store.set_anonymity(
        again.conversation_id, Anonymity.ANONYMOUS, actor_id=boss.id, now=at(2)
    )

    kept, merged = await store.link_contacts(
        chat.conversation_id, again.conversation_id, actor_id=boss.id, reason=" 同じ方 ", now=at(3)
    )

    assert (kept, merged) == (a, b)
    timeline = await store.consulter_timeline(a)
    assert [t.conversation.id for t in timeline] == [
        chat.conversation_id,
        again.conversation_id,
        mail.conversation_id,
    ]
    assert {t.conversation.channel for t in timeline} == {ChannelKind.MAIL, ChannelKind.WEBCHAT}
    assert {t.conversation.contact_alias for t in timeline} == {
        timeline[0].conversation.contact_alias
    }
    assert await store.consulter_timeline(b) == []
    assert (await store.get_conversation(stranger.conversation_id)).contact_id not in (a, b)
    for conv in (chat, again):  # discretion from B, anonymous the stricter of the two
        contact = await store.contact_address(conv.conversation_id)
        assert (contact.anonymity, contact.discretion) == (Anonymity.ANONYMOUS, True)
    # each conversation keeps the address it came from; her chat shows only its own
    assert (await store.contact_address(again.conversation_id)).address == MAIL
    assert (await store.contact_address(chat.conversation_id)).address == CHAT
    shown = await store.consulter_history(ChannelKind.WEBCHAT, CHAT_KEY)
    assert {m.conversation_id for m in shown} == {chat.conversation_id}
    # her next e-mail comes to her open e-mail conversation, now under the linked contact
    (more,) = await store.save_inbound_batch([inbound(MAIL, channel=ChannelKind.MAIL)])
    assert more.conversation_id == again.conversation_id
    assert (await store.get_conversation(more.conversation_id)).contact_id == a

    [event] = [e for e in await store.list_events() if e.kind == "contacts_linked"]
    assert (event.actor_id, event.conversation_id) == (boss.id, chat.conversation_id)
    assert event.data == {
        "contact_id": a,
        "merged_contact_id": b,
        "linked_conversation_id": again.conversation_id,
        "reason": "同じ方",
    }
    assert MAIL not in repr(event) and CHAT not in repr(event)


async def test_linking_refuses_one_consulter_twice_and_unknown_conversations(
    store: Store,
) -> None:
    boss = await counselor(store, "boss")
    (mail,) = await store.save_inbound_batch([inbound(MAIL, channel=ChannelKind.MAIL)])
    (chat,) = await store.save_inbound_batch([inbound(CHAT, channel=ChannelKind.WEBCHAT)])
    with pytest.raises(NotFound):
        await store.link_contacts(
            mail.conversation_id, ConversationId(999_999), actor_id=boss.id, reason="x", now=at(1)
        )
    await store.link_contacts(
        mail.conversation_id, chat.conversation_id, actor_id=boss.id, reason="x", now=at(1)
    )
    with pytest.raises(Conflict):
        await store.link_contacts(
            chat.conversation_id, mail.conversation_id, actor_id=boss.id, reason="x", now=at(2)
        )
    assert [e.kind for e in await store.list_events() if e.kind == "contacts_linked"] == [
        "contacts_linked"
    ]


@pytest.mark.parametrize(
    ("a", "b", "linked"),
    [
        (None, None, None),
        (Anonymity.IDENTIFIED, None, None),  # an identified wish does not spread
        (Anonymity.PSEUDONYMOUS, Anonymity.IDENTIFIED, Anonymity.PSEUDONYMOUS),
        (None, Anonymity.ANONYMOUS, Anonymity.ANONYMOUS),
        (Anonymity.IDENTIFIED, Anonymity.IDENTIFIED, Anonymity.IDENTIFIED),
    ],
)
def test_the_stricter_anonymity_wins_whichever_side_it_is_on(
    a: Anonymity | None, b: Anonymity | None, linked: Anonymity | None
) -> None:
    assert stricter_anonymity(a, b) == stricter_anonymity(b, a) == linked


async def test_linking_moves_her_calls_referrals_and_age_group_so_the_report_counts_her_once(
    store: Store,
) -> None:
    """The report counts people over conversations and calls together: after a link, her call
    and her referral are the kept contact's, and an age group told to either is kept."""
    boss = await counselor(store, "boss")
    (chat,) = await store.save_inbound_batch(
        [inbound(CHAT, channel=ChannelKind.WEBCHAT, body="チャットです", received_at=at(1))]
    )
    (phone,) = await store.save_inbound_batch(
        [inbound("+81312345678", channel=ChannelKind.PHONE, received_at=at(1))]
    )  # her callback request
    logged = await store.log_call(
        NewCall(
            direction=CallDirection.OUTBOUND,
            started_at=at(2),
            duration_s=60,
            outcome="reached",
            staff_id=boss.id,
            reached=True,
            conversation_id=phone.conversation_id,
            any_callback=True,
        ),
        now=at(2),
        retry=lambda tries, window: CloseCallback(reason="reached", outcome="reached"),
    )
    merged = logged.call.contact_id
    assert merged is not None
    kept = (await store.get_conversation(chat.conversation_id)).contact_id
    agency = await store.create_agency(
        AgencyDraft(name="中央警察署", kind="police"), actor_id=boss.id, now=at(2)
    )
    await store.record_referral(
        NewReferral(
            agency_id=agency.id, kind="handover", on_day=at(2).date(), staff_id=boss.id,
            call_id=logged.call.id,
        ),
        now=at(2),
    )  # fmt: skip
    await store.set_age_group(ContactId(merged), "30s", actor_id=boss.id, now=at(2))
    facts = FactsQuery(at(0).date() - timedelta(days=1), at(3).date() + timedelta(days=1))
    assert (await store.report_facts(facts)).get(("consulters", TOTAL)) == 2

    await store.link_contacts(
        chat.conversation_id, phone.conversation_id, actor_id=boss.id, reason="同じ方", now=at(3)
    )

    assert (await store.get_call(logged.call.id)).contact_id == kept
    [referral] = await store.referrals_of(call_id=logged.call.id)
    assert referral.contact_id == kept
    assert await store.age_group_of(kept) == "30s"
    counted = await store.report_facts(facts)
    assert counted.get(("consulters", TOTAL)) == 1
    assert counted.get(("age.30s", TOTAL)) == 1
