"""LINE's "typing" for a consulter on LINE: the loading animation while her counselor writes.

inbox.web.live passes on a typing signal of a conversation's assignee (the console sends none
while the note box is on, so a note is never typed to her; inbox/web/static/console/together.js)
and, for a LINE conversation, calls `typed`. LINE shows its indicator for `loading_seconds` and
drops it by itself when a message reaches her, so one request a conversation per window (that
time less a margin, renewed before it runs out while she keeps typing) is enough.

Nothing here may slow the staff socket's read loop: `typed` decides from memory and hands the
store reads (her block, her LINE user id) and the API call to a task of its own, kept until it
ends. A failure costs only the hint: LineChannel.show_loading never raises, a database error is
skipped. Her LINE user id is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from inbox.core.errors import StorageError
from inbox.core.model import ContactAddress, ConversationId

log = logging.getLogger(__name__)

# The console renews typing every 3 s (live.TYPING_GAP_S passes at most one frame in 2 s): a new
# request this long before the indicator runs out keeps it on without a gap.
LOADING_MARGIN_S = 4.0
MIN_WINDOW_S = 2.0  # live.TYPING_GAP_S: no shorter window could ever matter


def loading_seconds(configured: int) -> int:
    """The seconds LineChannel.show_loading asks for (LINE: 5 to 60, a multiple of 5)."""
    return max(5, min(60, configured // 5 * 5))


class ConsulterReads(Protocol):
    """The two reads a request needs (storage.roles): her block, and her LINE user id."""

    async def recipient_opted_out(self, conversation_id: ConversationId) -> bool: ...
    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress: ...


ShowLoading = Callable[[str], Awaitable[None]]  # LineChannel.show_loading: never raises


class LineTyping:
    """Shows LINE's loading animation to the consulters whose assignee types, throttled."""

    def __init__(
        self,
        store: ConsulterReads,
        show_loading: ShowLoading,
        *,
        seconds: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._show_loading = show_loading
        self.window_s = max(loading_seconds(seconds) - LOADING_MARGIN_S, MIN_WINDOW_S)
        self._now = monotonic
        # Conversation -> when its last request was made, oldest first: an entry older than the
        # window says nothing more and is dropped, so this holds only the window's conversations.
        self._shown: OrderedDict[ConversationId, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def typed(self, conv_id: ConversationId) -> None:
        """Her assignee is typing in this LINE conversation: show her the indicator unless a
        request for it was made within the window. Returns at once."""
        now = self._now()
        while self._shown:
            oldest, at = next(iter(self._shown.items()))
            if now - at < self.window_s:
                break
            del self._shown[oldest]
        if conv_id in self._shown:
            return
        self._shown[conv_id] = now  # newest last: the order stays the order of time
        task = asyncio.get_running_loop().create_task(self._show(conv_id), name="line-loading")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _show(self, conv_id: ConversationId) -> None:
        try:
            if await self._store.recipient_opted_out(conv_id):
                return  # she blocked the account: nothing is sent to her, not even this
            user_id = (await self._store.contact_address(conv_id)).address
        except StorageError as exc:
            log.info(
                "LINE loading indicator skipped: the database did not answer",
                extra={"action": "line_loading_skipped", "error": type(exc).__name__},
            )
            return
        await self._show_loading(user_id)

    def tracked(self) -> int:
        """How many conversations the throttle holds (for tests and diagnostics)."""
        return len(self._shown)

    async def close(self) -> None:
        """Cancel the requests still under way (the server is stopping)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
