// @ts-check
// The phone desk, live: the staff socket (/api/ws) says when events happen (ids and kinds only,
// inbox/feed.py), and the page fetches its lists again, a burst at a time; after a reconnect
// everything (events may have been missed), and every 30 s while the page is visible (a callback
// becomes callable when her window opens, which no event says).

import { t } from "../i18n.js";
import { byId, coalesced } from "../lib/dom.js";
import { LiveSocket } from "../lib/live.js";

const CLOCK_MS = 30000;
// Events that change nothing of this page (a consulter's read receipt, canned replies).
/** @param {{kind?: unknown}} e */
const unrelated = (e) => e.kind === "consulter_read" || String(e.kind).startsWith("canned_reply_");

/** @type {LiveSocket | null} */
let socket = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let clock;
/** @type {import("../lib/live.js").LiveState | null} */
let shown = null;

function showState() {
  const status = byId("phone-status", HTMLElement);
  status.dataset.state = shown || "offline";
  status.textContent = t(`console.status.${shown || "offline"}`);
}

/**
 * Start listening; `refresh` fetches the page's lists.
 * @param {() => Promise<unknown>} refresh
 */
export function startLive(refresh) {
  const soon = coalesced(refresh, 300, 3000);
  socket = new LiveSocket({
    path: "/api/ws",
    onState: (state) => {
      shown = state;
      showState();
    },
    onMessage: (msg) => {
      if (!msg || msg.type !== "events" || !Array.isArray(msg.events)) return;
      if (!msg.events.every(unrelated)) soon();
    },
    // a supervisor's socket is pushed the board too (inbox/web/board_live.py): not shown here
    onOpen: () => socket?.send({ type: "board", watch: false }),
    onReconnected: soon,
  });
  socket.start();
  clock = setInterval(() => {
    if (document.visibilityState === "visible") soon();
  }, CLOCK_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || !socket) return;
    socket.wake({ resetBackoff: true });
    soon();
  });
}

export function stopLive() {
  socket?.stop();
  socket = null;
  clearInterval(clock);
}

/** Redraw what this module wrote itself (the language changed). */
export function relabelLive() {
  showState();
}
