"""Where the consulter stands, and the web chat's service hours, as data her chat words in her
language: on her hello, on her asking, and when a nudge (inbox.web.chat_news) says it changed;
never pushed as text unasked.

Her state, first match wins:
- `closed`: her latest conversation was closed; her next message opens a new one, linked to her
  history (the same contact; continuity routing brings back the counselor who helped her).
- `with_counselor`: a counselor has it AND has opened it or answered. An offer she has not
  opened yet is not "someone is with you": it lapses back to the queue if she does not take it.
- `paused`: supervisors paused the web chat; nothing is given out until they resume it.
- `outside_hours`: the web chat is closed now; `hours.next_opening` says when it opens.
- `queued`: waiting; `position` is her place in line when she is in it (None while offered).
- `none`: she has not written yet.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web

from inbox.core.model import ChannelKind, Conversation, ConversationStatus
from inbox.core.shifts import counselors_on_duty
from inbox.core.windows import DAY_END
from inbox.web.server import SERVICES, Services
from routing.assign import queue_order
from routing.hours import ALWAYS_OPEN, ServiceHours, current_window_end, is_open, next_opening
from routing.replies import wait_estimate

ROUND_WAIT_S = 1.0


def _clock_time(at: time) -> str:
    return "24:00" if at == DAY_END else at.strftime("%H:%M")


def hours_json(hours: ServiceHours, now: datetime) -> dict[str, Any]:
    """The web chat's hours for her chat header: the weekly windows (Monday first, local
    wall-clock times), whether it is open now, and when it next opens or closes, as times in
    the service's zone (ISO 8601 with offset), which her chat words in her language."""
    local = now.astimezone(hours.tz)
    opening = next_opening(hours, local)
    closes = current_window_end(hours, local)
    return {
        "always_open": hours == ALWAYS_OPEN,
        "timezone": hours.tz.key,
        "open_now": is_open(hours, local),
        "next_opening": None if opening is None else opening.isoformat(),
        "closes_at": None if closes is None else closes.isoformat(),
        "weekly": [[[_clock_time(s), _clock_time(e)] for s, e in day] for day in hours.weekly],
        "closed_on_holidays": hours.closed_on_holidays,
    }


def with_counselor(conv: Conversation) -> bool:
    """Someone is with her: assigned, and the counselor opened it or answered."""
    return conv.assignee_id is not None and (
        conv.opened_at is not None or conv.status is ConversationStatus.WAITING
    )


async def _place_in_line(services: Services, conv: Conversation) -> tuple[int | None, float | None]:
    # Asked right after her message, the answer must not be "all busy" only because the router
    # has not had its round yet: let one run first (briefly; the answer is only an estimate).
    await services.router.next_round(timeout_s=ROUND_WAIT_S)
    snapshot = await services.store.routing_snapshot()
    order = [w.id for w in queue_order(snapshot.waiting)]
    if conv.id not in order:
        return None, None
    position = order.index(conv.id) + 1
    handling_s = await services.store.recent_handling_s()
    counselors = counselors_on_duty(
        snapshot.agents, services.clock(), closed=services.router.closed_day
    )
    handling = None if handling_s is None else timedelta(seconds=handling_s)
    wait = wait_estimate(position, handling, counselors)
    return position, None if wait is None else wait.total_seconds()


async def standing(services: Services, identity: str, *, place: bool = True) -> dict[str, Any]:
    """`{"type": "queue_status", "state", "position", "wait_s", "hours"}` (module docstring).
    `place=False` (her welcome) leaves out her place in line, which takes the routing snapshot:
    a welcome must stay cheap when every chat reconnects at once; her page asks for it."""
    hours = services.settings.webchat_hours
    now = services.clock()
    answer: dict[str, Any] = {
        "type": "queue_status",
        "state": "none",
        "position": None,
        "wait_s": None,
        "hours": hours_json(hours, now),
    }
    history = await services.store.consulter_history(ChannelKind.WEBCHAT, identity, limit=1)
    if not history:
        return answer
    conv = await services.store.get_conversation(history[-1].conversation_id)
    if conv.status is ConversationStatus.CLOSED:
        return answer | {"state": "closed"}
    if with_counselor(conv):
        return answer | {"state": "with_counselor"}
    if ChannelKind.WEBCHAT in await services.store.paused_channels():
        return answer | {"state": "paused"}
    state = "queued" if is_open(hours, now) else "outside_hours"
    if not place:
        return answer | {"state": state}
    position, wait_s = await _place_in_line(services, conv)
    return answer | {"state": state, "position": position, "wait_s": wait_s}


async def queue_status(request: web.Request, identity: str) -> dict[str, Any]:
    return await standing(request.app[SERVICES], identity)


async def chat_settings(request: web.Request) -> web.Response:
    """What her chat page needs before it connects, without inline script (the CSP allows
    none): where quick exit goes, whether keeping the conversation on the device starts
    ticked, and the web chat's hours."""
    services = request.app[SERVICES]
    chat = services.settings.webchat
    return web.json_response(
        {
            "exit_url": chat.exit_url,
            "keep_on_device": chat.keep_on_device,
            "hours": hours_json(services.settings.webchat_hours, services.clock()),
        },
        headers={"Cache-Control": "no-store"},
    )
