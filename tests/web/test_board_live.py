"""BoardLive (inbox.web.board_live) without a server: a burst of events costs one round, not one
per event; the board goes to the supervisors' sockets only, encoded once; nobody watching, no
round at all. And which alerts the board shows."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from inbox.core.board import Alert, AlertAck
from inbox.core.model import Event, EventId, UserId
from inbox.web.board_live import BACKLOG, BoardLive
from inbox.web.hub import STAFF, Audience, Frame, Hub
from inbox.web.overview import shown_alerts

AN_EVENT = Event(
    id=EventId(1),
    at=datetime(2026, 11, 22, tzinfo=UTC),
    kind="message_received",
    actor_id=None,
    conversation_id=None,
    message_id=None,
)


class Builds:
    """The board's builder, held at a gate so the test decides when a round ends."""

    def __init__(self) -> None:
        self.count = 0
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def __call__(self) -> dict[str, Any]:
        self.count += 1
        self.started.set()
        await self.gate.wait()
        self.gate.clear()
        return {"event_id": self.count}


async def test_a_burst_is_one_round_and_only_supervisors_get_it() -> None:
    hub = Hub(client_queue=100)
    supervisor, counselor = (hub.add(STAFF, web.WebSocketResponse()) for _ in range(2))
    audience = Audience(hub, STAFF)
    audience.add(supervisor)
    builds = Builds()
    live = BoardLive(audience, builds, min_gap_s=0.0)
    async with asyncio.TaskGroup() as tg:
        runner = tg.create_task(live.run())
        for _ in range(200):
            await live.published([AN_EVENT])
        await builds.started.wait()
        builds.started.clear()
        for _ in range(200):  # while the first round is being built
            await live.published([AN_EVENT])
        builds.gate.set()
        await builds.started.wait()  # the second round: it takes all 200 of them
        builds.gate.set()
        frames = [json.loads((await supervisor.queue.get()).data) for _ in range(2)]
        runner.cancel()
    assert builds.count == 2
    assert frames == [{"type": "board", "event_id": 1}, {"type": "board", "event_id": 2}]
    assert counselor.queue.empty()


async def test_nobody_watching_means_no_round() -> None:
    hub = Hub(client_queue=10)
    audience = Audience(hub, STAFF)
    builds = Builds()
    live = BoardLive(audience, builds, min_gap_s=0.0)
    async with asyncio.TaskGroup() as tg:
        runner = tg.create_task(live.run())
        await live.published([AN_EVENT])
        for _ in range(10):
            await asyncio.sleep(0)  # let the runner look
        runner.cancel()
    assert builds.count == 0
    quiet = BoardLive(Audience(hub, STAFF), builds)
    await quiet.published([dataclasses.replace(AN_EVENT, kind="conversation_read")])
    assert not quiet.pending()  # a read changes nothing on the board
    await quiet.published([dataclasses.replace(AN_EVENT, kind="conversation_read"), AN_EVENT])
    assert quiet.pending()
    sub = hub.add(STAFF, web.WebSocketResponse())
    audience.add(sub)
    assert audience.push({"type": "board", "event_id": 0}) == 1
    sub.dropped = True  # a dropped socket leaves the audience
    assert audience.push({"type": "board", "event_id": 0}) == 0 and not len(audience)


def test_acknowledged_alerts_never_push_an_open_one_off_the_board() -> None:
    def alert(n: int, acked: bool) -> Alert:
        event = dataclasses.replace(AN_EVENT, id=EventId(n), kind="deadline_warning")
        ack = AlertAck(event_id=n, by=UserId(1), at=AN_EVENT.at) if acked else None
        return Alert(event=event, ack=ack)

    # newest first: 100 acknowledged ones, then 60 open ones
    found = [alert(n, True) for n in range(200, 100, -1)] + [
        alert(n, False) for n in range(60, 0, -1)
    ]
    shown = shown_alerts(found)
    assert [a.event.id for a in shown if a.ack is None] == list(range(60, 10, -1))
    assert [a.event.id for a in shown if a.ack is not None] == list(range(200, 180, -1))
    assert [a.event.id for a in shown] == sorted((a.event.id for a in shown), reverse=True)


async def test_a_socket_behind_is_passed_over_and_gets_a_later_board() -> None:
    hub = Hub(client_queue=100)
    slow, quick = (hub.add(STAFF, web.WebSocketResponse()) for _ in range(2))
    audience = Audience(hub, STAFF)
    audience.add(slow)
    audience.add(quick)
    builds = Builds()
    builds.gate.set()
    live = BoardLive(audience, builds, min_gap_s=0.0)
    for _ in range(BACKLOG):  # nothing reads the slow one
        slow.queue.put_nowait(Frame.of("{}"))
    builds.gate.set()
    assert await live.round() == 1
    assert (audience.behind, slow.queue.qsize(), quick.queue.qsize()) == (1, BACKLOG, 1)
    assert live.pending()  # another round will come for it
    while not slow.queue.empty():
        slow.queue.get_nowait()
    builds.gate.set()
    assert await live.round() == 1  # the slow one only: the quick one has it
    assert (audience.behind, builds.count) == (0, 1)  # pushed again, not built again
    assert (json.loads(slow.queue.get_nowait().data), quick.queue.qsize()) == (
        {"type": "board", "event_id": 1},
        1,
    )
    await live.published([AN_EVENT])  # a change: a new board, for everyone
    assert await live.round() == 2
    assert builds.count == 2


async def test_a_socket_that_stays_behind_costs_no_rebuilds() -> None:
    """At ten rounds a second with one socket stuck, no board is built again while nothing
    changes: each round pushes the last one to it, and it takes none while it is full."""
    hub = Hub(client_queue=100)
    stuck = hub.add(STAFF, web.WebSocketResponse())
    audience = Audience(hub, STAFF)
    audience.add(stuck)
    audience.add(hub.add(STAFF, web.WebSocketResponse()))
    builds = Builds()
    builds.gate.set()
    live = BoardLive(audience, builds, min_gap_s=0.0)
    for _ in range(BACKLOG):
        stuck.queue.put_nowait(Frame.of("{}"))
    await live.published([AN_EVENT])
    async with asyncio.TaskGroup() as tg:
        runner = tg.create_task(live.run())
        for _ in range(50):
            await asyncio.sleep(0)
            builds.gate.set()
        runner.cancel()
    assert builds.count == 1
    assert live.pending() and audience.behind == 1
