"""Nothing is ever written to a callback's number by itself: a phone conversation waiting in
the queue gets no waiting-line message, and does not count in the chats' line."""

from __future__ import annotations

from inbox.core.model import Direction
from inbox.core.phone import CallDirection, Caller, NewCall, OpenCallback, RetryAt
from inbox.router import Router
from storage.base import Store
from tests.core.test_autoreply import TUESDAY_10, hours_for, outbound, replier, store_line
from tests.factories import at, new_user


def never(_: object, __: object) -> RetryAt:
    raise AssertionError("no try is worked here")


async def test_a_queued_callback_gets_no_waiting_line_message(store: Store) -> None:
    await store.create_user(new_user("sato", capacity=1), now=at(0))
    r = replier(store, TUESDAY_10)
    router = Router(store, clock=lambda: TUESDAY_10, on_round=r.routed, hours_for=hours_for)
    first = await store_line(store, "U1", TUESDAY_10)
    missed = await store.log_call(
        NewCall(
            direction=CallDirection.INBOUND,
            started_at=TUESDAY_10,
            duration_s=0,
            outcome=None,
            staff_id=None,
            caller=Caller(identity_hash="h" * 64, e164="+819012345678"),
            callback=OpenCallback(due_at=TUESDAY_10),
        ),
        now=TUESDAY_10,
        retry=never,
    )
    second = await store_line(store, "U2", TUESDAY_10)
    await router.route_once()  # sato takes the first; the callback and the second wait
    assert await r.send_pending() == 1
    assert await outbound(store, first) == []
    (ack,) = await outbound(store, second)
    assert "1番目" in ack.body  # the callback is not ahead of her in the chats' line
    conv_id = missed.call.conversation_id
    assert conv_id is not None
    assert [
        m for m in await store.list_messages(conv_id) if m.direction is Direction.OUTBOUND
    ] == []
