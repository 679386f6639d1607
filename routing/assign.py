"""The placeholder router: give each waiting conversation to the least-loaded counselor.

Pure: a function of the snapshot alone, no I/O, no clock, no randomness. Issue 3 replaces the
policy (shifts, skills, continuity, windows) behind the same signature.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from inbox.model import Assign, Decision, RoutingSnapshot, Wait

NO_COUNSELOR = "no_counselor_available"


def decide(snapshot: RoutingSnapshot, *, now: datetime) -> list[Decision]:
    """One decision per waiting conversation, most urgent first, never over anyone's capacity.

    Among counselors with room, the one with the lowest load wins; ties go to the lowest id, so
    the same snapshot always gives the same decisions.
    """
    del now  # the placeholder ignores time; the real router counts waiting and service hours
    capacity = {a.user_id: a.capacity for a in snapshot.agents}
    # A heap of (load, id) over counselors with room: O(log n) per decision, same order as a scan.
    free = [(a.load, a.user_id) for a in snapshot.agents if a.load < a.capacity]
    heapq.heapify(free)
    decisions: list[Decision] = []
    for conv in snapshot.waiting:
        if not free:
            decisions.append(Wait(conversation_id=conv.id, reason=NO_COUNSELOR))
            continue
        load, chosen = free[0]
        if load + 1 < capacity[chosen]:
            heapq.heapreplace(free, (load + 1, chosen))
        else:
            heapq.heappop(free)
        decisions.append(Assign(conversation_id=conv.id, user_id=chosen, capacity=capacity[chosen]))
    return decisions
