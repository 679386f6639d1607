"""Staff commands: who each one wakes follows from the kinds of events it committed.

The mapping is a pure table; the commands run on the real SQLite store, and every event a command
wrote must have woken whoever its kind concerns (so STORE_WRITES cannot fall behind the store).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

import pytest

from inbox.commands.signals import ROUTING_KINDS, Signals, Wake, wakes_for
from inbox.commands.staff import StaffCommands
from inbox.core.activity import Activity, ActivityDraft
from inbox.core.agencies import AgencyDraft
from inbox.core.model import (
    Anonymity,
    CannedReplyDraft,
    ChannelKind,
    ConversationId,
    CounselorUpdate,
    MessageId,
    Presence,
    Role,
)
from storage.base import Store
from storage.postgres.schema import MIGRATIONS
from tests.factories import T0, inbound, new_user

ROUTER, OUTBOX, FEED = Wake.ROUTER, Wake.OUTBOX, Wake.FEED


@pytest.mark.parametrize(
    ("kinds", "wakes"),
    [
        ([], set()),
        (["note_added"], {FEED}),
        (["signed_in"], {FEED}),
        (["address_revealed"], {FEED}),
        (["reply_queued"], {OUTBOX, FEED}),
        (["auto_reply_queued"], {OUTBOX, FEED}),
        (["conversation_closed"], {ROUTER, FEED}),
        (["conversation_assigned", "note_added"], {ROUTER, FEED}),
        (["user_created", "user_created_by"], {ROUTER, FEED}),
        (["user_disabled", "conversation_requeued"], {ROUTER, FEED}),
        (["channel_paused"], {ROUTER, FEED}),
        (["counselor_updated"], {ROUTER, FEED}),
        (["user_updated"], {ROUTER, FEED}),  # roles: she may be a counselor now, or no more
        (["password_reset"], {FEED}),
        (["reply_queued", "conversation_assigned"], {ROUTER, OUTBOX, FEED}),
        # audit: a staff member's read is for the audit log only, news for no one
        (["conversation_read"], set()),
        (["conversation_read", "note_added"], {FEED}),
    ],
)
def test_who_wakes_follows_from_the_kinds(kinds: list[str], wakes: set[Wake]) -> None:
    assert wakes_for(kinds) == wakes


def test_the_notify_trigger_routes_for_what_wakes_this_router() -> None:
    """One router serves every instance (storage.postgres.lease): it must hear of each change
    another instance writes that would wake a router there, and other instances route after
    the trigger's kinds, which this one must not do less for."""
    trigger = next(
        sql for _, sql in sorted(MIGRATIONS.items(), reverse=True) if "tsunagu_notify_events" in sql
    )
    listed = re.search(r"kind IN \(([^)]*)\)", trigger)
    assert listed is not None
    kinds = set(re.findall(r"'([a-z_]+)'", listed[1]))
    assert kinds == ROUTING_KINDS


class Heard:
    """A Listener that notes the kinds each command said it committed."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.calls = 0

    def after(self, kinds: Iterable[str]) -> None:
        self.kinds |= set(kinds)
        self.calls += 1


async def test_every_command_wakes_whoever_its_events_concern(store: Store) -> None:
    heard = Heard()
    commands = StaffCommands.build(store, clock=lambda: T0, signals=heard)
    last_id = 0

    async def run(command: Awaitable[object]) -> set[str]:
        """The kinds of events the command wrote: it must have told of each, once."""
        nonlocal last_id
        heard.kinds, heard.calls = set(), 0
        await command
        events = await store.list_events(after_id=last_id)
        last_id = events[-1].id if events else last_id
        kinds = {e.kind for e in events}
        assert kinds <= heard.kinds and heard.calls == 1, (kinds, heard.kinds)
        return kinds

    accounts, desk, counselors = commands.accounts, commands.conversations, commands.counselors
    canned = commands.canned
    first_canned = (await store.list_canned_replies())[0].id
    boss = await accounts.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})))
    sato = await accounts.create_user(new_user("sato"), by=boss.id)
    assert await run(accounts.create_user(new_user("suzuki"), by=boss.id)) == {
        "user_created",
        "user_created_by",
    }
    [stored, chat] = await store.save_inbound_batch([inbound(), inbound("chat-key")])
    conv = ConversationId(stored.conversation_id)
    last_id = (await store.list_events())[-1].id  # the intake's events are not a command's
    agencies = commands.agencies

    async def refer() -> object:
        [first] = [a for a in await store.list_agencies() if a.kind == "police"]
        new = agencies.read_referral(
            {"agency_id": first.id, "kind": "handover"}, staff=sato.id, conversation_id=conv
        )
        return await agencies.record_referral(new)

    async def unrefer() -> object:
        [made] = await store.referrals_of(conversation_id=conv)
        return await agencies.delete_referral(made.id, actor=sato.id, any_staff=False)

    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: desk.assign(conv, sato.id, actor=boss.id, capacity=None),
        lambda: desk.open_offer(conv, sato.id),  # assigned by hand: no offer to open
        lambda: desk.reply(conv, sato.id, "お返事です"),
        lambda: desk.note(conv, sato.id, "メモ"),
        lambda: desk.set_discretion(conv, True, actor=sato.id),
        lambda: desk.set_discretion(conv, False, actor=sato.id),
        lambda: desk.set_anonymity(conv, Anonymity.IDENTIFIED, actor=sato.id),
        lambda: desk.link_contacts(conv, chat.conversation_id, actor=boss.id, reason="同じ方"),
        lambda: desk.record_reveal(conv, actor=boss.id, reason=" 緊急 ", mode=Anonymity.IDENTIFIED),
        lambda: desk.record_download(conv, MessageId(1), 0, actor=boss.id),
        # --- audit: her read, then the same read again (nothing written, nobody woken)
        lambda: desk.record_read(conv, actor=boss.id),
        lambda: desk.record_read(conv, actor=boss.id),
        lambda: counselors.update(sato.id, CounselorUpdate(capacity=4), actor=boss.id),
        lambda: counselors.drain(
            sato.id, actor=boss.id, presence=Presence.OFFLINE, keep=False, note=None
        ),
        # presence that follows her sockets: a lease that ran out, away, back again
        lambda: counselors.update(
            sato.id, CounselorUpdate(presence=Presence.AVAILABLE), actor=sato.id
        ),
        lambda: counselors.connected(sato.id, lease_s=-1),
        lambda: counselors.away_disconnected(),
        lambda: counselors.connected(sato.id, lease_s=60),
        lambda: counselors.seen([sato.id], lease_s=60),
        lambda: desk.move([conv, ConversationId(999)], sato.id, actor=boss.id, note="よろしく"),
        lambda: counselors.set_channel_paused(ChannelKind.WEBCHAT, True, actor=boss.id),
        lambda: counselors.set_channel_paused(ChannelKind.WEBCHAT, False, actor=boss.id),
        lambda: desk.set_tags(conv, ["dv", "仕事"], keep={"urgent"}, actor=sato.id),
        lambda: canned.create(
            CannedReplyDraft(title_ja="挨拶", body_ja="こんにちは"), actor=boss.id
        ),
        lambda: canned.update(first_canned, CannedReplyDraft(body_en="Hi"), actor=boss.id),
        lambda: canned.delete(first_canned, actor=boss.id),
        # --- casework: the directory and a referral, recorded then deleted
        lambda: agencies.create(AgencyDraft(name="警察署", kind="police"), actor=boss.id),
        lambda: agencies.import_csv(
            "名称,種別\nみどりの家,シェルター\n".encode(), actor=boss.id, preview=False
        ),
        lambda: refer(),
        lambda: unrefer(),
        lambda: desk.close(conv, actor=sato.id),
        lambda: accounts.start_session(sato.id, "h" * 64, ttl=timedelta(hours=1)),
        lambda: accounts.end_session("h" * 64),
        lambda: accounts.record_sign_in_failures({"scope": "address", "failures": 5}),
        lambda: accounts.set_password_hash(sato.id, "$argon2id$another"),
        lambda: accounts.create_api_token(sato.id, "t" * 64, name="cli"),
        lambda: accounts.disable_user("sato"),
        # --- accounts: admins manage accounts
        lambda: accounts.enable_user("sato", by=boss),
        lambda: accounts.update_user("sato", display_name="佐藤", by=boss),
        lambda: accounts.reset_password("sato", "$argon2id$temporary", by=boss),
        lambda: accounts.change_password(sato.id, "$argon2id$hers", keep_session=None),
    ]
    written: set[str] = set()
    for step in steps:
        written |= await run(step())
    # --- casework: topics, her age group, an activity logged, edited and deleted
    casework = commands.casework
    contact = (await store.get_conversation(conv)).contact_id
    written |= await run(casework.set_conversation_topics(conv, ["dv"], actor=sato.id))
    written |= await run(casework.set_age_group(contact, "20s", actor=sato.id))
    logged: list[Activity] = []

    async def log() -> None:
        draft = ActivityDraft(kind="talk", day=T0.date(), people=3)
        logged.append(await casework.log_activity(draft, actor=sato.id))

    written |= await run(log())
    draft = ActivityDraft(kind="talk", day=T0.date(), people=4)
    written |= await run(
        casework.edit_activity(logged[0].id, draft, actor=sato.id, any_staff=False)
    )
    written |= await run(casework.delete_activity(logged[0].id, actor=boss.id, any_staff=True))
    assert written >= {
        "topics_set",
        "age_group_set",
        "activity_logged",
        "activity_updated",
        "activity_deleted",
    }
    assert written >= {
        "conversation_assigned",
        "reply_queued",
        "conversation_requeued",
        "channel_resumed",
        "conversation_closed",
        "signed_in",
        "user_disabled",
        "tags_set",
        "contacts_linked",
        "canned_reply_created",
        "canned_reply_updated",
        "canned_reply_deleted",
        "agency_created",
        "agencies_imported",
        "referral_recorded",
        "referral_deleted",
        "conversation_read",
        "user_enabled",
        "user_updated",
        "password_reset",
        "password_changed",
    }


def test_signals_wake_each_worker_the_kinds_concern_once() -> None:
    woken: list[Wake] = []
    signals = Signals(
        router=lambda: woken.append(ROUTER),
        outbox=lambda: woken.append(OUTBOX),
        feed=lambda: woken.append(FEED),
    )
    signals.after(["reply_queued", "note_added", "reply_queued"])
    assert woken == [OUTBOX, FEED]
    signals.after([])
    assert woken == [OUTBOX, FEED]
    Signals().after(["conversation_closed"])  # the CLI's: nobody to wake, and no error
