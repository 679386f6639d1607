"""The Store contract of accounts an admin manages (both stores): enabling, roles and display
names, an admin's password reset and her own change, and never leaving no enabled admin."""

from __future__ import annotations

import dataclasses

import pytest

from inbox.core.errors import LastAdmin, NotFound
from inbox.core.model import ConversationStatus, Role, UserId
from inbox.core.sessions import session_tag
from storage.base import Store
from tests.factories import at, inbound, new_user

ADMIN = frozenset({Role.ADMIN})


async def _user(
    store: Store, name: str, roles: frozenset[Role] = frozenset({Role.COUNSELOR})
) -> UserId:
    return (await store.create_user(new_user(name, roles=roles), now=at(0))).id


async def test_new_accounts_may_have_to_set_their_own_password(store: Store) -> None:
    made = await store.create_user(
        dataclasses.replace(new_user("tanaka"), must_change_password=True), now=at(0)
    )
    assert made.must_change_password
    assert (await store.get_user(made.id)).must_change_password
    assert not (await store.create_user(new_user("sato"), now=at(0))).must_change_password


async def test_roles_and_display_name_change_with_an_event_naming_the_fields(store: Store) -> None:
    admin = await _user(store, "admin", ADMIN)
    sato = await _user(store, "sato")
    renamed = await store.update_account(
        "sato", display_name="佐藤 花子", roles=None, actor_id=admin, now=at(1)
    )
    assert (renamed.display_name, renamed.roles) == ("佐藤 花子", frozenset({Role.COUNSELOR}))
    both = frozenset({Role.COUNSELOR, Role.SUPERVISOR})
    promoted = await store.update_account(
        "sato", display_name=None, roles=both, actor_id=admin, now=at(2)
    )
    assert (promoted.display_name, promoted.roles) == ("佐藤 花子", both)
    assert await store.get_user(sato) == promoted
    updates = [(e.actor_id, e.data) for e in await store.list_events() if e.kind == "user_updated"]
    assert updates == [
        (admin, {"user_id": sato, "fields": ["display_name"], "display_name": "佐藤 花子"}),
        (admin, {"user_id": sato, "fields": ["roles"], "roles": ["counselor", "supervisor"]}),
    ]
    with pytest.raises(NotFound):
        await store.update_account(
            "nobody", display_name="x", roles=None, actor_id=admin, now=at(3)
        )


async def test_a_counselor_no_more_gives_her_work_back_and_is_routed_nothing(store: Store) -> None:
    sato = await _user(store, "sato")
    (a,) = await store.save_inbound_batch([inbound("a")])
    await store.assign(a.conversation_id, sato, actor_id=sato, now=at(1), capacity=None)
    await store.update_account(
        "sato", display_name=None, roles=frozenset({Role.SUPERVISOR}), actor_id=None, now=at(2)
    )
    conv = await store.get_conversation(a.conversation_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.QUEUED, None)
    requeued = [e.data for e in await store.list_events() if e.kind == "conversation_requeued"]
    assert requeued == [{"from_user_id": sato, "reason": "counselor_role_removed"}]
    assert (await store.routing_snapshot()).agents == ()
    await store.update_account(
        "sato", display_name=None, roles=frozenset({Role.COUNSELOR}), actor_id=None, now=at(3)
    )
    assert [agent.user_id for agent in (await store.routing_snapshot()).agents] == [sato]


async def test_a_disabled_account_is_enabled_again_by_whom(store: Store) -> None:
    admin = await _user(store, "admin", ADMIN)
    sato = await _user(store, "sato")
    await store.set_user_disabled("sato", True, now=at(1), actor_id=admin)
    enabled = await store.set_user_disabled("sato", False, now=at(2), actor_id=admin)
    assert not enabled.disabled
    kinds = [(e.kind, e.actor_id, e.data) for e in await store.list_events() if "abled" in e.kind]
    assert kinds == [
        ("user_disabled", admin, {"user_id": sato}),
        ("user_enabled", admin, {"user_id": sato}),
    ]


async def test_a_reset_ends_her_sessions_and_tokens_and_she_must_change_it(store: Store) -> None:
    admin = await _user(store, "admin", ADMIN)
    sato = await _user(store, "sato")
    await store.create_session("s1", sato, now=at(0), expires_at=at(3600))
    await store.create_session("other", admin, now=at(0), expires_at=at(3600))
    await store.create_api_token("t1", sato, name="script", now=at(0))
    await store.create_api_token("t2", admin, name="script", now=at(0))
    reset = await store.reset_password("sato", "$argon2id$temporary", actor_id=admin, now=at(1))
    assert reset.must_change_password
    assert await store.session_user("s1", now=at(2)) is None
    assert await store.session_user("other", now=at(2)) is not None  # hers only
    # a leaked token of hers would work again once she set a new password: it is gone
    assert await store.token_user("t1") is None
    assert await store.token_user("t2") is not None
    found = await store.find_login("sato")
    assert found is not None and found[1] == "$argon2id$temporary"
    assert found[0].must_change_password
    (event,) = [e for e in await store.list_events() if e.kind == "password_reset"]
    assert (event.actor_id, event.data) == (admin, {"user_id": sato})
    with pytest.raises(NotFound):
        await store.reset_password("nobody", "$argon2id$x", actor_id=admin, now=at(1))


async def test_her_own_change_keeps_this_session_and_ends_the_others(store: Store) -> None:
    sato = await _user(store, "sato")
    await store.reset_password("sato", "$argon2id$temporary", actor_id=None, now=at(1))
    for token in ("here", "elsewhere"):
        await store.create_session(token, sato, now=at(2), expires_at=at(3600))
    await store.create_api_token("her-script", sato, name="script", now=at(2))
    gated = await store.session_user("here", now=at(3))
    assert gated is not None and gated.must_change_password
    changed = await store.change_password(sato, "$argon2id$hers", keep_session="here", now=at(4))
    assert not changed.must_change_password
    here = await store.session_user("here", now=at(5))
    assert here is not None and not here.must_change_password
    assert await store.session_user("elsewhere", now=at(5)) is None
    assert await store.token_user("her-script") is not None  # her own change keeps her tokens
    found = await store.find_login("sato")
    assert found is not None and found[1] == "$argon2id$hers"
    # the kept session by its tag, so every instance closes the other sessions' sockets
    (event,) = [e for e in await store.list_events() if e.kind == "password_changed"]
    assert (event.actor_id, event.data) == (
        sato,
        {"user_id": sato, "kept_session": session_tag("here")},
    )
    assert "argon2" not in str([e.data for e in await store.list_events()])
    await store.change_password(sato, "$argon2id$again", keep_session=None, now=at(6))
    assert await store.session_user("here", now=at(7)) is None  # by a token: no session kept
    last = [e for e in await store.list_events() if e.kind == "password_changed"][-1]
    assert last.data == {"user_id": sato}
    with pytest.raises(NotFound):
        await store.change_password(UserId(999_999), "$argon2id$x", keep_session=None, now=at(6))


async def test_an_admin_never_leaves_the_desk_without_an_enabled_admin(store: Store) -> None:
    admin = await _user(store, "admin", ADMIN)
    root = await _user(store, "root", frozenset({Role.ADMIN, Role.SUPERVISOR}))
    await store.set_user_disabled("root", True, now=at(1), actor_id=admin)
    with pytest.raises(LastAdmin):
        await store.set_user_disabled("admin", True, now=at(2), actor_id=root)
    with pytest.raises(LastAdmin):
        await store.update_account(
            "admin", display_name=None, roles=frozenset({Role.SUPERVISOR}), actor_id=root, now=at(3)
        )
    kept = await store.get_user(admin)  # nothing of either was written
    assert (kept.disabled, kept.roles) == (False, ADMIN)
    # a disabled admin may lose the role; the CLI (no actor) may do anything, to mend things
    await store.update_account(
        "root", display_name=None, roles=frozenset({Role.SUPERVISOR}), actor_id=admin, now=at(4)
    )
    assert (await store.set_user_disabled("admin", True, now=at(5))).disabled
    await store.set_user_disabled("admin", False, now=at(6))
