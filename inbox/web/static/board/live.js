// @ts-check
// The board, live: the staff socket (/api/ws) pushes supervisors `{"type": "board", "event_id",
// ...}` within a moment of each event (inbox/web/board_live.py); the page fetches GET /api/board
// when the socket opens or comes back, for whatever it missed. Older frames never replace newer.

import { t } from "../i18n.js";
import { byId } from "../lib/dom.js";
import { LiveSocket } from "../lib/live.js";
import { setBoard, refresh } from "./state.js";

const CLOCK_MS = 30000; // waits grow and connection leases run out without events: refetched this often

/** @type {LiveSocket | null} */
let socket = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let clock;
/** @type {import("../lib/live.js").LiveState | null} */
let shown = null;

function showState() {
  const status = byId("board-status", HTMLElement);
  status.dataset.state = shown || "offline";
  status.textContent = t(`console.status.${shown || "offline"}`);
}

export function startLive() {
  socket = new LiveSocket({
    path: "/api/ws",
    onState: (state) => {
      shown = state;
      showState();
    },
    onMessage: (msg) => {
      if (msg && msg.type === "board") setBoard(msg);
    },
    onOpen: () => {
      refresh();
    },
  });
  socket.start();
  clock = setInterval(() => void refresh(), CLOCK_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && socket) socket.wake({ resetBackoff: true });
  });
}

export function stopLive() {
  if (socket) socket.stop();
  socket = null;
  clearInterval(clock);
}

/** Redraw what this module wrote itself (the language changed). */
export function relabelLive() {
  showState();
}
