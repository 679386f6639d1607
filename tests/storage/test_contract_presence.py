"""The Store contract for presence that follows the staff sockets (storage.presence), on both
stores: a lease that runs out sets an available counselor away, marked so; her return undoes
only that away; a new account starts offline; the router never counts an away one."""

from __future__ import annotations

import dataclasses

from inbox.core.model import CounselorUpdate, NewUser, Presence, Role, UserId
from storage.base import Store
from tests.factories import at, counselor, new_user


async def presence_of(store: Store, user: UserId) -> Presence:
    return (await store.get_user(user)).presence


async def reasons(store: Store) -> list[tuple[int, str]]:
    return [
        (e.data["user_id"], e.data.get("reason", ""))
        for e in await store.list_events()
        if e.kind == "counselor_updated"
    ]


async def test_a_new_account_starts_offline(store: Store) -> None:
    seeded = new_user("new")
    fields = {f.name: getattr(seeded, f.name) for f in dataclasses.fields(seeded)}
    product_default = NewUser(**{k: v for k, v in fields.items() if k != "presence"})
    created = await store.create_user(product_default, now=at(0))
    assert created.presence is Presence.OFFLINE
    snapshot = await store.routing_snapshot()
    assert [a.presence for a in snapshot.agents if a.user_id == created.id] == [Presence.OFFLINE]


async def test_an_ended_lease_sets_her_away_and_her_return_makes_her_available(
    store: Store,
) -> None:
    sato = (await counselor(store, "sato")).id
    suzuki = (await counselor(store, "suzuki")).id  # never had a socket: nothing is decided
    assert not await store.staff_connected(sato, now=at(0), until=at(130))
    assert await store.away_disconnected(now=at(129)) == []  # the lease still holds
    await store.staff_seen([sato], until=at(200))  # her socket is still open: extended
    assert await store.away_disconnected(now=at(150)) == []
    assert await store.away_disconnected(now=at(201)) == [sato]
    assert await presence_of(store, sato) is Presence.AWAY
    assert await presence_of(store, suzuki) is Presence.AVAILABLE
    assert await store.away_disconnected(now=at(300)) == []  # once: she is away already
    assert await reasons(store) == [(sato, "disconnected")]
    # back: the away the disconnect set ends, with an event that says so
    assert await store.staff_connected(sato, now=at(400), until=at(530))
    assert await presence_of(store, sato) is Presence.AVAILABLE
    assert await reasons(store) == [(sato, "disconnected"), (sato, "reconnected")]
    assert not await store.staff_connected(sato, now=at(410), until=at(540))  # nothing to undo


async def test_an_away_she_chose_stays_when_she_reconnects(store: Store) -> None:
    sato = (await counselor(store, "sato")).id
    await store.staff_connected(sato, now=at(0), until=at(10))
    assert await store.away_disconnected(now=at(11)) == [sato]
    # she then says herself that she is away: her choice, not the disconnect's
    await store.update_counselor(
        sato, CounselorUpdate(presence=Presence.AWAY), actor_id=sato, now=at(12)
    )
    assert not await store.staff_connected(sato, now=at(20), until=at(30))
    assert await presence_of(store, sato) is Presence.AWAY
    # and offline stays offline
    await store.update_counselor(
        sato, CounselorUpdate(presence=Presence.OFFLINE), actor_id=sato, now=at(40)
    )
    assert not await store.staff_connected(sato, now=at(50), until=at(60))
    assert await presence_of(store, sato) is Presence.OFFLINE


async def test_only_enabled_available_counselors_are_swept(store: Store) -> None:
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    gone = (await counselor(store, "gone")).id
    offline = (await counselor(store, "off")).id
    await store.update_counselor(
        offline, CounselorUpdate(presence=Presence.OFFLINE), actor_id=offline, now=at(0)
    )
    await store.staff_seen([boss.id, gone, offline], until=at(5))
    await store.set_user_disabled("gone", True, now=at(1))
    assert await store.away_disconnected(now=at(10)) == []
    assert await presence_of(store, offline) is Presence.OFFLINE
    await store.staff_seen([], until=at(5))  # nothing to extend: no statement, no error
    assert not await store.staff_connected(UserId(999_999), now=at(0), until=at(1))
