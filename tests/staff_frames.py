"""Reading the staff feed as the console does: a frame holds a round's events, in order."""

from __future__ import annotations

import json
from collections import deque
from typing import Any
from weakref import WeakKeyDictionary

import aiohttp

from inbox.web.hub import Subscriber

# Events of a frame already received but not yet read, per socket: the next read takes these
# first, so an event never goes missing because it shared a frame with the one a test awaited.
_unread: WeakKeyDictionary[aiohttp.ClientWebSocketResponse, deque[dict[str, Any]]] = (
    WeakKeyDictionary()
)


def frame_events(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of one staff frame; none in the board's (a supervisor's socket gets those
    too: inbox.web.board_live)."""
    if frame["type"] == "board":
        return []
    assert frame["type"] == "events", frame
    events: list[dict[str, Any]] = frame["events"]
    assert events, "a frame holds at least one event"
    return events


async def next_staff_event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next event on this staff socket, across frames (raises as receive_json does when
    the socket closes)."""
    unread = _unread.setdefault(ws, deque())
    while not unread:
        unread.extend(frame_events(await ws.receive_json()))
    return unread.popleft()


async def queued_events(socket: Subscriber) -> list[dict[str, Any]]:
    """The events of the next frame in a hub socket's queue (no connection behind it)."""
    return frame_events(json.loads((await socket.queue.get()).data))
