// @ts-check
// The phone desk, live: the staff socket (/api/ws) says when events happen (ids and kinds only,
// inbox/feed.py), and the page fetches its lists again, a burst at a time; after a reconnect
// everything (events may have been missed), and every 30 s while the page is visible (a callback
// becomes callable when her window opens, which no event says).

import { coalesced } from "../lib/dom.js";
import { StaffLive } from "../lib/staff_live.js";

const CLOCK_MS = 30000;
// Events that change nothing of this page (a consulter's read receipt, canned replies).
/** @param {{kind?: unknown}} e */
const unrelated = (e) => e.kind === "consulter_read" || String(e.kind).startsWith("canned_reply_");

const live = new StaffLive("phone-status");

/**
 * Start listening; `refresh` fetches the page's lists.
 * @param {() => Promise<unknown>} refresh
 */
export function startLive(refresh) {
  const soon = coalesced(refresh, 300, 3000);
  live.start({
    onMessage: (msg) => {
      if (!msg || msg.type !== "events" || !Array.isArray(msg.events)) return;
      if (!msg.events.every(unrelated)) soon();
    },
    // a supervisor's socket is pushed the board too (inbox/web/board_live.py): not shown here
    onOpen: (socket) => socket.send({ type: "board", watch: false }),
    onReconnected: soon,
    clockMs: CLOCK_MS,
    onClock: () => {
      if (document.visibilityState === "visible") soon();
    },
    onVisible: soon,
  });
}

export function stopLive() {
  live.stop();
}

/** Redraw what this module wrote itself (the language changed). */
export function relabelLive() {
  live.relabel();
}
